"""Lake upkeep as a Prefect task: merge small files, expire old snapshots, delete files nobody uses.

Runs under the writers' lock (a pass's next commit waits a few seconds); readers are never blocked.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from core.settings import MaintenanceSettings, WarehouseSettings
from storage.connection import Warehouse
from storage.maintenance import MaintenanceReport, maintain


@task(name="maintain-lake", cache_policy=NO_CACHE)
def maintain_task(settings: WarehouseSettings, policy: MaintenanceSettings) -> MaintenanceReport:
    logger = get_run_logger()
    warehouse = Warehouse(settings, on_wait=logger.warning)
    retention = timedelta(days=policy.keep_snapshots_days)
    with contextlib.closing(warehouse), warehouse.write_lock(), warehouse.session() as con:
        report = maintain(con, settings.data_path, retention)
    logger.info(
        "lake maintenance: data files %d -> %d, snapshots %d -> %d (kept: the last %g days)",
        report.files_before,
        report.files_after,
        report.snapshots_before,
        report.snapshots_after,
        policy.keep_snapshots_days,
    )
    return report
