from alembic import context

from ozg_common.migrations import run_env
from ozg_zufi.models import Model

run_env(context, Model.metadata)
