from alembic import context

from ozg_common.migrations import run_env
from ozg_mailbox.models import Model

run_env(context, Model.metadata)
