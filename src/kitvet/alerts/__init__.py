"""Alerts: estate events to receivers — webhook (signed JSON), e-mail digest, Slack, Teams.

Public API (the estate's door is :class:`kitvet.estate.alerting.EstateAlerts`)::

    from kitvet.alerts import load_config, drain, route, scan, from_review
    cfg = load_config(path)                 # alerts.toml: receivers and routing
    events = scan(conn, now=..., warn_days=7, silent_after_days=7)
    drain(engine, cfg)                      # route the outbox, send what is due

See ``docs/alerts.md``.
"""

from kitvet.alerts.config import AlertConfig, Receiver, Retry, config_path, load, parse
from kitvet.alerts.dispatch import DrainResult, ReceiverOutcome, drain, route
from kitvet.alerts.events import from_review, scan

load_config = load

__all__ = ["AlertConfig", "DrainResult", "Receiver", "ReceiverOutcome", "Retry", "config_path",
           "drain", "from_review", "load", "load_config", "parse", "route", "scan"]
