from alembic import context

from ozg_common.migrations import run_env
from ozg_demo_receiver.models import Model

run_env(context, Model.metadata)
