import json

import pytest

from bot import cli
from bot.services import registry
from bot.services.tickets import ComplaintSubmission, TicketService


@pytest.fixture
def cli_db(configured_db):
    return TicketService(configured_db)


def open_ticket(service):
    ticket, _ = service.open(
        ComplaintSubmission(
            submission_key="k1", sender_id="web-1", channel="rest", language="en", order_number="DH100001",
            order_verified=True, category="damaged", description="cup <b>broken</b>", contact="an@example.com",
        )
    )
    return ticket


def test_list_json_has_every_field_staff_need(cli_db, capsys):
    open_ticket(cli_db)
    assert cli.main(["tickets", "list", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    for key in ("code", "order_number", "category", "description", "contact", "priority", "status",
                "language", "channel", "created_at", "acknowledge_due_at", "resolve_due_at"):
        assert key in row
    assert row["code"] == "KN-000001" and row["description"] == "cup <b>broken</b>"


def test_set_status_then_show(cli_db, capsys):
    ticket = open_ticket(cli_db)
    assert cli.main(["tickets", "set-status", ticket.code, "in_progress", "--note", "gọi lại khách", "--by", "lan"]) == 0
    assert cli.main(["tickets", "show", ticket.code, "--json"]) == 0
    out = capsys.readouterr().out
    shown = json.loads(out[out.index("{"):])
    assert shown["status"] == "in_progress"
    assert shown["history"][-1]["note"] == "gọi lại khách"


def test_errors_exit_non_zero(cli_db, capsys):
    assert cli.main(["tickets", "show", "KN-000404"]) == 1
    assert cli.main(["tickets", "set-status", "KN-000404", "closed"]) == 1
    with pytest.raises(SystemExit):
        cli.main(["tickets", "set-status", "KN-000001", "done"])


def test_db_commands_are_idempotent(sqlite_url, monkeypatch, capsys):
    monkeypatch.setenv("HOTRO_DATABASE_URL", sqlite_url)
    registry.settings.cache_clear()
    try:
        assert cli.main(["db", "upgrade"]) == 0
        assert cli.main(["db", "seed"]) == 0
        assert cli.main(["db", "seed"]) == 0
        assert "0 orders added" in capsys.readouterr().out
    finally:
        registry.settings.cache_clear()


def test_list_csv_opens_in_a_spreadsheet_without_full_contacts(cli_db, capsys):
    import csv
    import io

    ticket = open_ticket(cli_db)
    cli_db.set_status(ticket.code, "resolved", "lan")
    assert cli.main(["tickets", "list", "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["code"] for r in rows] == [ticket.code]
    row = rows[0]
    assert (row["status"], row["category"], row["order"], row["overdue_now"]) == ("resolved", "damaged", "DH100001", "no")
    assert row["contact"] != "an@example.com" and row["contact"].endswith("@example.com")
    assert row["resolved"] and float(row["hours_to_resolve"]) >= 0


def test_customer_text_cannot_drive_the_staff_terminal(cli_db, capsys):
    ticket, _ = cli_db.open(ComplaintSubmission(
        submission_key="k-esc", sender_id="web-esc", channel="web", language="vi", order_number="DH100001",
        order_verified=True, category="damaged",
        description="ly vỡ\x1b[2J\x07\nthêm dòng\u202e\x9b", contact="an@example.com\x1b[31m"))
    cli_db.set_status(ticket.code, "in_progress", "lan", note="gọi lại\x1b[1A")
    for command in (["tickets", "show", ticket.code], ["tickets", "list"], ["tickets", "list", "--csv"],
                    ["tickets", "list", "--json"], ["tickets", "show", ticket.code, "--json"]):
        assert cli.main(command) == 0
        out = capsys.readouterr().out
        assert not any(ch in out for ch in "\x1b\x07\x9b\u202e"), command
    cli.main(["tickets", "show", ticket.code])
    out = capsys.readouterr().out
    assert "    ly vỡ\\x1b[2J\\x07\n    thêm dòng\\u202e\\u009b\n" in out  # the description keeps its own lines
    assert "an@example.com\\x1b[31m" in out and "gọi lại\\x1b[1A" in out
    cli.main(["tickets", "show", ticket.code, "--json"])
    assert json.loads(capsys.readouterr().out)["description"] == "ly vỡ\x1b[2J\x07\nthêm dòng\u202e\x9b"


def test_faq_report_escapes_what_customers_asked(cli_db, sqlite_url, capsys):
    from bot.services.faq import FaqService
    from bot.store.db import session_factory

    FaqService(registry.faq_library(), session_factory(sqlite_url)).record(
        "unanswered", "phí ship\x1b[2J bao nhiêu?", "vi", "web-1")
    assert cli.main(["faq", "report"]) == 0
    out = capsys.readouterr().out
    assert "phí ship\\x1b[2J bao nhiêu?" in out and "\x1b" not in out
