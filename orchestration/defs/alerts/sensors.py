"""Run-failure alerts: a Slack-compatible JSON post to ``$ALERT_WEBHOOK_URL``
(Slack, Mattermost, Google Chat or any incoming webhook that takes
``{"text": ...}``). Unset: alerts are skipped, the run log still has it all.
"""

import os
from typing import Any

import dagster as dg
import httpx

from orchestration.lib.resources import AlertWebhookResource

MAX_ERROR_CHARS = 1500


def alert_payload(run: dg.DagsterRun, message: str) -> dict[str, Any]:
    """The alert body: one line of what failed, a link to the run, the error."""
    base = os.environ.get("DAGSTER_WEBSERVER_URL", "http://localhost:3000").rstrip("/")
    link = f"{base}/runs/{run.run_id}"
    error = message.strip()[:MAX_ERROR_CHARS]
    assets = sorted(k.to_user_string() for k in (run.asset_selection or ()))
    lines = [f":rotating_light: Dagster run failed: *{run.job_name}* (<{link}|{run.run_id[:8]}>)"]
    if assets:
        lines.append("assets: " + ", ".join(assets[:20]) + (" ..." if len(assets) > 20 else ""))
    if error:
        lines.append(f"```{error}```")
    return {
        "text": "\n".join(lines),
        "job": run.job_name,
        "run_id": run.run_id,
        "run_url": link,
        "error": error,
    }


@dg.run_failure_sensor(
    name="alert_on_run_failure",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Posts every failed run to the ALERT_WEBHOOK_URL webhook (Slack-compatible).",
)
def alert_on_run_failure(
    context: dg.RunFailureSensorContext, alert_webhook: AlertWebhookResource
) -> dg.SkipReason | None:
    url = alert_webhook.url()
    if not url:
        return dg.SkipReason(f"{alert_webhook.url_env} is not set: no alert sent")
    message = context.failure_event.message or ""
    payload = alert_payload(context.dagster_run, message)
    try:
        response = httpx.post(url, json=payload, timeout=alert_webhook.timeout_s)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        # never echo the URL: an incoming-webhook URL is a secret
        raise dg.Failure(
            description=f"the alert webhook ({alert_webhook.url_env}) refused or did not "
            f"answer: {type(exc).__name__}"
        ) from None
    context.log.info(f"alert sent for run {context.dagster_run.run_id}")
    return None
