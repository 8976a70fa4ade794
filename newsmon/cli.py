"""The `newsmon` command: run, watch, demo, status, feeds, sql, maintain, migrate, …"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

# Nothing heavy at import time: `newsmon run` starts Prefect's temporary server before importing the rest.
from core.errors import ConfigError, NewsmonError, NoFeedRead
from newsmon.feeds_cli import add_feeds_commands
from newsmon.prefect_server import hand_over, start_early

if TYPE_CHECKING:
    from core.settings import Config

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFIG = 2
EXIT_NO_FEED_READ = 3  # the pass ran but not one polled feed could be read (a total outage)


def _prefect_defaults() -> None:
    """Before Prefect is imported: its throw-away local server's telemetry races on its SQLite file."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


def _fail(message: str, code: int) -> int:
    """One line on stderr, whatever the message holds."""
    print(f"newsmon: {' '.join(message.split())}", file=sys.stderr)
    return code


def _config(args: argparse.Namespace) -> Config:
    """The validated config of `--config`; a ConfigError ends the command with exit status 2 (see main)."""
    from newsmon.config import load_config

    return load_config(Path(args.config))


def cmd_run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    _prefect_defaults()
    early_server = start_early()
    config = _config(args)
    from flows.monitor import summary_from_dict
    from newsmon.flow import run_pass
    from newsmon.summary import format_summary

    hand_over(early_server)
    try:
        result = run_pass(config, poll_all=args.all)
    except NoFeedRead as outage:
        print(format_summary(outage.summary, time.monotonic() - started))
        return _fail(f"pass failed: {outage}", EXIT_NO_FEED_READ)
    except (NewsmonError, OSError) as exc:
        return _fail(f"pass failed: {exc}", EXIT_FAILED)
    print(format_summary(summary_from_dict(result), time.monotonic() - started))
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    config = _config(args)
    from newsmon.display import display_zone
    from newsmon.status import collect_status, render_status, status_json

    data = collect_status(config)
    print(status_json(data) if args.json else render_status(data, display_zone(config.timezone)))
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    if args.serve:
        from newsmon.demo import serve_sample_site

        return serve_sample_site(args.port)
    _prefect_defaults()
    early_server = start_early()
    from newsmon.demo import run_demo

    hand_over(early_server)
    return run_demo(Path(args.db) if args.db else None)


def cmd_alerts_test(args: argparse.Namespace) -> int:
    config = _config(args)
    rule = next((r for r in config.alerts if r.name == args.rule), None)
    if rule is None:
        known = ", ".join(r.name for r in config.alerts) or "none"
        return _fail(f"{config.path}: alerts: no rule named {args.rule!r} (rules: {known})", EXIT_CONFIG)
    from flows.netguard import HostAllowList
    from flows.notify import send_test

    failures = 0
    for label, error in send_test(
        rule, config.notifications.timeout_seconds, HostAllowList(config.network.allow_hosts)
    ):
        print(f"{label}: {'sent' if error is None else 'FAILED: ' + error}")
        failures += error is not None
    return EXIT_FAILED if failures else EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    """Schedule passes from this process (Prefect's `flow.serve`): one machine, no work pool or worker."""
    config = _config(args)
    _prefect_defaults()
    from newsmon.serve import ServeError, ServeRequest, require_prefect_server, serve

    try:
        require_prefect_server()
    except ServeError as exc:
        return _fail(str(exc), EXIT_CONFIG)
    from newsmon.flow import monitor_pass

    parameters = {"config_path": str(config.path), "poll_all": False}
    serve(monitor_pass, ServeRequest(name=args.name, cron=args.cron, parameters=parameters))
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    config = _config(args)
    try:
        since = date.fromisoformat(args.since) if args.since else None
    except ValueError:
        return _fail(f"--since: {args.since!r} is not a date like 2026-11-01", EXIT_CONFIG)
    from storage.readmodels import export_column_types, read_back_sql
    from storage.warehouse import Warehouse, export_tables

    out = Path(args.out or f"{config.warehouse.local_dir.name}-export")
    with Warehouse(config.warehouse).reader() as con:
        written = export_tables(con, out.resolve(), args.format, since)
        types = export_column_types(con, "articles")
    for table, rows in written.items():
        print(f"{table}: {rows} rows -> {out / table}/day=YYYY-MM-DD/")
    print(f"read back: {read_back_sql(out, 'articles', args.format, types)}")
    return EXIT_OK


def cmd_sql(args: argparse.Namespace) -> int:
    """A query (read-only; never blocks a pass), or with none the DuckDB shell with the lake attached."""
    config = _config(args)
    from newsmon import analysts

    snapshot = analysts.run_snapshot(config, args.run) if args.run else args.snapshot
    if args.print_attach:
        print(analysts.attach_script(config, snapshot))
        return EXIT_OK
    if args.query is None:
        analysts.open_shell(config, snapshot)
    analysts.query(config, args.query, args.format, sys.stdout, snapshot)
    return EXIT_OK


def cmd_maintain(args: argparse.Namespace) -> int:
    config = _config(args)
    _prefect_defaults()
    early_server = start_early()
    from newsmon.flow import run_maintenance

    hand_over(early_server)
    report = run_maintenance(config)
    print(
        f"data files: {report['files_before']} -> {report['files_after']}; "
        f"snapshots: {report['snapshots_before']} -> {report['snapshots_after']} "
        f"(time travel reaches back {config.maintenance.keep_snapshots_days:g} days)"
    )
    return EXIT_OK


def cmd_migrate(args: argparse.Namespace) -> int:
    config = _config(args)
    from newsmon.migrate import migrate_warehouse

    checks = migrate_warehouse(
        config,
        Path(args.old).absolute() if args.old else None,
        Path(args.legacy_python) if args.legacy_python else None,
        Path(args.exported) if args.exported else None,
        print,
    )
    width = max(len(c.table) for c in checks)
    for check in checks:
        print(f"  {check.table:<{width}}  {check.exported:>9} exported  {check.loaded:>9} in the lake  ok")
    print(f"migrated: {len(checks)} tables, every row count verified")
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    config = _config(args)
    from newsmon.report import write_report

    path = write_report(config, Path(args.out), args.days)
    print(f"report written to {path.resolve()}")
    return EXIT_OK


def cmd_watch(args: argparse.Namespace) -> int:
    """The long-running monitor (newsmon.watch_command); its own exit codes: 0 stopped, 1, 2, 3."""
    _prefect_defaults()
    early_server = start_early()
    from newsmon.watch_command import run_watch

    return run_watch(args.config, early_server)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsmon", description="Monitor news feeds into a DuckDB warehouse (a DuckLake)."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="one monitoring pass (a Prefect flow run)")
    run.add_argument("--config", required=True, help="YAML config file")
    run.add_argument("--all", action="store_true", help="poll every feed, even those not due yet")
    run.set_defaults(handler=cmd_run)
    watch = commands.add_parser("watch", help="long-running monitor: adaptive polling, WebSub, /healthz, /metrics")
    watch.add_argument("--config", required=True, help="YAML config file")
    watch.set_defaults(handler=cmd_watch)
    demo = commands.add_parser("demo", help="serve the bundled sample site on 127.0.0.1 and run a pass")
    demo.add_argument("--db", help="warehouse folder to write (default: demo-output/newsmon)")
    demo.add_argument("--serve", action="store_true", help="only serve the sample site until Ctrl-C (no pass)")
    demo.add_argument("--port", type=int, default=8765, help="port for --serve (default 8765)")
    demo.set_defaults(handler=cmd_demo)
    status = commands.add_parser("status", help="feed health, last runs, notifications")
    status.add_argument("--config", required=True, help="YAML config file")
    status.add_argument("--json", action="store_true", help="machine-readable output (times in UTC)")
    status.set_defaults(handler=cmd_status)
    serve = commands.add_parser("serve", help="run passes on a schedule from this process (needs a Prefect server)")
    serve.add_argument("--config", required=True, help="YAML config file")
    serve.add_argument("--cron", default="15 6 * * *", help="cron schedule (default: daily at 06:15, server time zone)")
    serve.add_argument("--name", default="newsmon-served", help="deployment name shown in the Prefect UI")
    serve.set_defaults(handler=cmd_serve)
    export = commands.add_parser("export", help="write articles and mentions as day-partitioned Parquet or CSV")
    export.add_argument("--config", required=True, help="YAML config file")
    export.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    export.add_argument("--since", help="first day to export (YYYY-MM-DD; default: everything)")
    export.add_argument("--out", help="output folder (default: <warehouse name>-export)")
    export.set_defaults(handler=cmd_export)
    report = commands.add_parser("report", help="a self-contained HTML report with charts")
    report.add_argument("--config", required=True, help="YAML config file")
    report.add_argument("--out", default="report.html", help="HTML file to write")
    report.add_argument("--days", type=int, default=30, help="how many days back (default 30)")
    report.set_defaults(handler=cmd_report)
    add_feeds_commands(commands)
    sql = commands.add_parser(
        "sql", help="query the warehouse read-only (never blocks a pass); no query: the DuckDB shell"
    )
    sql.add_argument("--config", required=True, help="YAML config file")
    sql.add_argument("query", nargs="?", help="SQL to run (omit for an interactive DuckDB shell)")
    sql.add_argument("--format", choices=["table", "csv", "json"], default="table", help="output (default table)")
    as_of = sql.add_mutually_exclusive_group()
    as_of.add_argument("--snapshot", type=int, help="query the lake as of this DuckLake snapshot id")
    as_of.add_argument("--run", help="query the lake as that pass left it (a runs.run_id)")
    sql.add_argument(
        "--print-attach", action="store_true", help="print the statements that attach the lake in your own DuckDB"
    )
    sql.set_defaults(handler=cmd_sql)

    maintain = commands.add_parser("maintain", help="merge small data files, expire old snapshots, delete unused files")
    maintain.add_argument("--config", required=True, help="YAML config file")
    maintain.set_defaults(handler=cmd_maintain)

    migrate = commands.add_parser("migrate", help="convert a single-file warehouse of an earlier release to the lake")
    migrate.add_argument("--config", required=True, help="YAML config file (its warehouse: is where the lake goes)")
    migrate.add_argument("--from", dest="old", help="the old warehouse file (default: the config's warehouse path)")
    source = migrate.add_mutually_exclusive_group(required=True)
    source.add_argument("--legacy-python", help="Python of the earlier release (its duckdb reads the old file)")
    source.add_argument("--exported", help="a folder written by storage/legacy_export.py (manifest.json + Parquet)")
    migrate.set_defaults(handler=cmd_migrate)

    alerts = commands.add_parser("alerts", help="alert rule tools")
    alert_commands = alerts.add_subparsers(dest="alerts_command", required=True)
    test = alert_commands.add_parser("test", help="send a sample message through a rule's channels")
    test.add_argument("--config", required=True, help="YAML config file")
    test.add_argument("--rule", required=True, help="the rule's name")
    test.set_defaults(handler=cmd_alerts_test)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except ConfigError as exc:
        return _fail(f"config error: {exc}", EXIT_CONFIG)
    except NewsmonError as exc:  # transient or permanent: the message says which and what to do
        return _fail(str(exc), EXIT_FAILED)
    return code


if __name__ == "__main__":
    sys.exit(main())
