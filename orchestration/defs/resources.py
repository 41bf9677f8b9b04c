"""The resources every asset, sensor and job shares (classes: ``orchestration.lib.resources``)."""

import dagster as dg

from orchestration.lib.resources import AlertWebhookResource, WarehouseResource


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "warehouse": WarehouseResource(),
            "alert_webhook": AlertWebhookResource(),
        }
    )
