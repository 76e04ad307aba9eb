"""Staff and operator command line.

    python -m bot db upgrade            apply database migrations
    python -m bot db seed               add the demo customers and orders
    python -m bot tickets list [--json] [--status STATUS]
    python -m bot tickets show CODE [--json]
    python -m bot tickets set-status CODE STATUS [--note TEXT] [--by NAME]
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import List, Optional

from bot.categories import label
from bot.services import registry
from bot.services.tickets import STATUSES, TicketError, TicketView
from bot.store.db import session_factory, session_scope
from bot.timefmt import format_local


def _print_ticket_line(t: TicketView) -> None:
    print(
        f"{t.code}  {t.status:<16} {t.priority:<7} {t.category:<16} {t.order_number or '-':<9} "
        f"{format_local(t.created_at)}  {t.description[:50]!r}"
    )


def _print_ticket(t: TicketView) -> None:
    print(f"{t.code} — {label(t.category, 'vi')} / {t.category}")
    print(f"  status:      {t.status}   priority: {t.priority}   channel: {t.channel}   language: {t.language}")
    print(f"  order:       {t.order_number or '-'} ({'verified' if t.order_verified else 'not verified'})")
    print(f"  contact:     {t.contact or '(reply in the chat)'}")
    print(f"  conversation: {t.sender_id}   source: {t.source}   assignee: {t.assignee or '-'}")
    print(f"  created:     {format_local(t.created_at)}")
    print(f"  acknowledge by {format_local(t.acknowledge_due_at)}; resolve by {format_local(t.resolve_due_at)}")
    print("  description:")
    for line in t.description.splitlines() or [""]:
        print(f"    {line}")
    print("  history:")
    for e in t.events:
        print(f"    {format_local(e.created_at)}  {e.status_from or '-'} -> {e.status_to}  by {e.author}  {e.note}")


def _cmd_db(args) -> int:
    from bot.store.migrate import upgrade
    from bot.store.seed import seed_demo_data

    url = registry.settings().database_url
    if args.action == "upgrade":
        upgrade(url)
        print("database is up to date")
    elif args.action == "seed":
        with session_scope(session_factory(url)) as session:
            added = seed_demo_data(session)
        print(f"demo data ready ({added} orders added)")
    return 0


def _cmd_tickets(args) -> int:
    service = registry.tickets()
    if args.action == "list":
        tickets = service.list(status=args.status)
        if args.json:
            print(json.dumps([t.as_dict() for t in tickets], ensure_ascii=False, indent=2))
        else:
            if not tickets:
                print("no tickets")
            for t in tickets:
                _print_ticket_line(t)
        return 0
    if args.action == "show":
        ticket = service.get(args.code)
        if ticket is None:
            print(f"no ticket {args.code}", file=sys.stderr)
            return 1
        if args.json:
            print(json.dumps(ticket.as_dict(), ensure_ascii=False, indent=2))
        else:
            _print_ticket(ticket)
        return 0
    if args.action == "set-status":
        try:
            ticket = service.set_status(args.code, args.status, author=args.by, note=args.note)
        except TicketError as exc:
            print(str(exc), file=sys.stderr)
            return 1
        print(f"{ticket.code} is now {ticket.status}")
        return 0
    return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="hotro staff and operator tools")
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="database migrations and demo data")
    db.add_argument("action", choices=["upgrade", "seed"])
    db.set_defaults(func=_cmd_db)

    tickets = sub.add_parser("tickets", help="list, show and update tickets")
    tsub = tickets.add_subparsers(dest="action", required=True)
    tlist = tsub.add_parser("list")
    tlist.add_argument("--json", action="store_true")
    tlist.add_argument("--status", choices=STATUSES)
    tshow = tsub.add_parser("show")
    tshow.add_argument("code")
    tshow.add_argument("--json", action="store_true")
    tset = tsub.add_parser("set-status")
    tset.add_argument("code")
    tset.add_argument("status", choices=STATUSES)
    tset.add_argument("--note", default="")
    tset.add_argument("--by", default="staff")
    tickets.set_defaults(func=_cmd_tickets)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
