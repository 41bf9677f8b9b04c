"""Custom components: the dbt project with our policy; per sync, its assets and campaign job.

They build on `orchestration.lib` and `activations` only, never on `orchestration.defs`."""

from orchestration.components.audience_sync import AudienceSyncComponent
from orchestration.components.dbt_project import ActivationsDbtProjectComponent

__all__ = ["ActivationsDbtProjectComponent", "AudienceSyncComponent"]
