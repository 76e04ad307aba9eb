"""Staff and operator command line.

    python -m bot db upgrade            apply database migrations
    python -m bot db seed [--force]     add the demo customers and orders (not next to real orders)
    python -m bot tickets list [--json | --csv] [--status STATUS]
    python -m bot tickets show CODE [--json]
    python -m bot tickets set-status CODE STATUS [--note TEXT] [--by NAME]
    python -m bot staff add NAME [--display-name TEXT] [--roles agent,editor,admin] [--password-stdin]
    python -m bot staff roles NAME ROLES   e.g. agent,editor: what NAME may do (agent: chats and tickets,
                                           editor: the FAQ, admin: everything, staff accounts too)
    python -m bot staff token NAME [--days N]   print a new API token (shown once)
    python -m bot staff list               accounts, active or disabled
    python -m bot staff disable|enable NAME   end someone's sessions and tokens and lock them out, or let them back
    python -m bot staff tokens [NAME]      sessions and API tokens: id, owner, kind, created, last used, expires
    python -m bot staff revoke TOKEN_ID    end one session or API token
    python -m bot staff link-telegram NAME TELEGRAM_USER_ID   answer customers from the Telegram staff group
    python -m bot staff skills NAME [--categories damaged,wrong_item] [--languages vi,en] [--channels web,telegram]
                                    [--capacity N]   what routing gives NAME (empty: any) and chats at once
    python -m bot staff availability NAME online|away|offline   whether routing gives NAME new chats
    python -m bot staff password NAME [--password-stdin]   set a new password (ends NAME's desk sessions)
    python -m bot customers forget PHONE|EMAIL|KN-CODE|CONVERSATION [--yes]   erase a customer's personal data
    python -m bot kpi [--days 7 | --from YYYY-MM-DD --to YYYY-MM-DD] [--json]   the team's figures
    python -m bot business-hours check [FILE]   validate business_hours.yml (working hours, holidays)
    python -m bot faq check [--dir DIR]    validate the FAQ files (file:line: message)
    python -m bot faq report [--json]      questions with no answer, a 👎, or a "did you mean" pick, most frequent first
    python -m bot faq eval FILE [--min-top1 0.9] [--add-entries NEW.yml]   retrieval accuracy on held-out paraphrases
    python -m bot faq cv [--misses] [--few-shot]   accuracy on the FAQ's own questions, each fifth held out in turn
    python -m bot faq train-nlu            fold FAQ questions into data/nlu/faq_generated.yml

Settings: the process environment, then the repository's .env (`python -m bot` loads it;
README, Settings). Every command that touches the database first checks that it is
migrated, so a wrong HOTRO_DATABASE_URL is said at once instead of working on another database.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import List, Optional

from bot.categories import label
from bot.services import registry
from bot.services.tickets import STATUSES, TicketError, TicketView
from bot.startup import database_ready
from bot.store.db import session_factory, session_scope
from bot.text import terminal_safe
from bot.timefmt import format_local


def _say(text: object = "", file=None) -> None:
    """Print a line that may hold what customers or staff wrote: their control characters are shown, not obeyed."""
    print(terminal_safe(str(text)), file=file)


def _say_json(data) -> None:
    print(terminal_safe(json.dumps(data, ensure_ascii=False, indent=2), keep_newlines=True))


def _print_ticket_line(t: TicketView) -> None:
    _say(
        f"{t.code}  {t.status:<16} {t.priority:<7} {t.category:<16} {t.order_number or '-':<9} "
        f"{format_local(t.created_at)}  {t.description[:50]!r}"
    )


def _print_ticket(t: TicketView) -> None:
    _say(f"{t.code} — {label(t.category, 'vi')} / {t.category}")
    _say(f"  status:      {t.status}   priority: {t.priority}   channel: {t.channel}   language: {t.language}")
    _say(f"  order:       {t.order_number or '-'} ({'verified' if t.order_verified else 'not verified'})")
    _say(f"  contact:     {t.contact or '(reply in the chat)'}")
    _say(f"  conversation: {t.sender_id}   source: {t.source}   assignee: {t.assignee or '-'}")
    _say(f"  created:     {format_local(t.created_at)}")
    _say(f"  acknowledge by {format_local(t.acknowledge_due_at)}; resolve by {format_local(t.resolve_due_at)}")
    _say("  description:")
    for line in t.description.splitlines() or [""]:
        _say(f"    {line}")
    _say("  history:")
    for e in t.events:
        _say(f"    {format_local(e.created_at)}  {e.status_from or '-'} -> {e.status_to}  by {e.author}  {e.note}")


def _cmd_db(args) -> int:
    from bot.settings_env import mask_url
    from bot.store.migrate import upgrade
    from bot.store.seed import real_order_count, seed_demo_data

    url = registry.settings().database_url
    if args.action == "upgrade":
        upgrade(url)
        _say(f"database {mask_url(url)} is up to date")
    elif args.action == "seed":
        with session_scope(session_factory(url)) as session:
            real = real_order_count(session)
            if real and not args.force:
                # Not an error: `make run` seeds on every start and must start a real shop too.
                _say(f"demo data not added: {mask_url(url)} already has {real} real order(s); "
                      "`python -m bot db seed --force` adds the demo orders anyway")
                return 0
            added = seed_demo_data(session)
        _say(f"demo data ready in {mask_url(url)} ({added} orders added)")
    return 0


def _uses_database(args) -> bool:
    if args.command == "db":
        return args.action != "upgrade"
    if args.command == "faq":
        return args.action == "report"
    return args.command != "business-hours"


def _cmd_business_hours(args) -> int:
    from bot.services.business_hours import CalendarError, load_calendar

    path = args.file or registry.settings().business_hours_file
    try:
        calendar = load_calendar(path, registry.settings().timezone_offset_hours)
    except CalendarError as exc:
        for problem in exc.problems:
            _say(problem, file=sys.stderr)
        return 1
    weekly = sum((c.hour * 60 + c.minute - o.hour * 60 - o.minute) for day in calendar.week.values() for o, c in day)
    _say(f"{path}: {weekly / 60:g} working hours a week, {len(calendar.holidays)} holiday days "
         f"(used when HOTRO_SLA_CLOCK=business; now {registry.settings().sla_clock})")
    return 0


def _cmd_tickets(args) -> int:
    service = registry.tickets()
    if args.action == "list":
        tickets = service.list(status=args.status)
        if args.json:
            _say_json([t.as_dict() for t in tickets])
        elif args.csv:
            _write_tickets_csv(tickets, sys.stdout)
        else:
            if not tickets:
                _say("no tickets")
            for t in tickets:
                _print_ticket_line(t)
        return 0
    if args.action == "show":
        ticket = service.get(args.code)
        if ticket is None:
            _say(f"no ticket {args.code}", file=sys.stderr)
            return 1
        if args.json:
            _say_json(ticket.as_dict())
        else:
            _print_ticket(ticket)
        return 0
    if args.action == "set-status":
        try:
            ticket = service.set_status(args.code, args.status, author=args.by, note=args.note)
        except TicketError as exc:
            _say(str(exc), file=sys.stderr)
            return 1
        _say(f"{ticket.code} is now {ticket.status}")
        return 0
    return 2


CSV_COLUMNS = ("code", "created", "status", "priority", "category", "channel", "order", "assignee", "contact",
               "acknowledge_by", "acknowledged", "resolve_by", "resolved", "overdue_now", "hours_to_resolve")


def _local_time(value, missing: str = "") -> str:
    """Vietnam time as one spreadsheet- and column-friendly field: 14:05 26/11/2026."""
    return format_local(value, "en").replace(", ", " ") if value else missing


def _write_tickets_csv(tickets, out) -> None:
    """One row per ticket for a spreadsheet: Vietnam times, the contact masked (the sheet travels by email)."""
    import csv
    from datetime import datetime

    from bot.parsers import mask_contact

    now = datetime.utcnow()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for t in tickets:
        hours = round((t.resolved_at - t.created_at).total_seconds() / 3600, 1) if t.resolved_at else ""
        row = (t.code, _local_time(t.created_at), t.status, t.priority, t.category, t.channel,
               t.order_number or "", t.assignee or "", mask_contact(t.contact) if t.contact else "",
               _local_time(t.acknowledge_due_at), _local_time(t.acknowledged_at), _local_time(t.resolve_due(now)),
               _local_time(t.resolved_at), "yes" if t.is_overdue(now) else "no", hours)
        writer.writerow([terminal_safe(str(value)) for value in row])


def _cmd_faq(args) -> int:
    from pathlib import Path

    faq_dir = Path(args.dir) if getattr(args, "dir", None) else registry.settings().faq_dir
    if args.action == "check":
        from bot.faq.check import check_directory

        problems, warnings = check_directory(faq_dir)
        for problem in problems:
            _say(problem)
        for warning in warnings:
            _say(f"{warning.file}:{warning.line}: warning: {warning.message}")
        if problems:
            _say(f"{len(problems)} problem(s) found", file=sys.stderr)
            return 1
        from bot.faq.library import FaqLibrary

        _say(f"FAQ is fine: {len(FaqLibrary(faq_dir).entries)} entries")
        return 0
    if args.action == "report":
        lines = registry.faq().report(limit=args.limit)
        if args.json:
            _say_json([line.__dict__ for line in lines])
            return 0
        if not lines:
            _say("nothing to report: every question found an answer and no answer got 👎")
        for line in lines:
            what = {"unanswered": "no answer", "picked": f"picked {line.faq_id}"}.get(line.kind, f"👎 on {line.faq_id}")
            _say(f"{line.count:>5}  {what:<30} {line.question}")
        return 0
    if args.action == "eval":
        from bot.faq.evaluate import FORMS, evaluate

        added = Path(args.add_entries) if args.add_entries else None
        result = evaluate(faq_dir, Path(args.file), added)
        failed = False
        for form in FORMS:
            accuracy = result.accuracy(form)
            answered = result.answered.get(form, 0) / result.total[form] if result.total.get(form) else 0.0
            ok = accuracy >= args.min_top1
            failed |= not ok
            _say(f"{form:<13} top-1 {accuracy:6.1%} ({result.top1.get(form, 0)}/{result.total.get(form, 0)}), "
                  f"answered directly {answered:6.1%}  {'ok' if ok else 'BELOW ' + format(args.min_top1, '.0%')}")
        for form, expected, predicted, text in result.misses:
            _say(f"  miss [{form}] expected {expected}, got {predicted}: {text}")
        if args.write:
            from bot.faq.evaluate import write_report

            write_report(result, Path(args.write), faq_dir, Path(args.file))
            _say(f"written to {args.write}")
        return 1 if failed else 0
    if args.action == "cv":
        from bot.faq.evaluate import cross_validate, few_shot_cross_validate

        if args.few_shot:
            new, existing = few_shot_cross_validate(faq_dir)
            shown = [("new entries (2 vi + 1 en questions)", new), ("existing entries", existing)]
        else:
            shown = [("", cross_validate(faq_dir))]
        for label, result in shown:
            _say_cv(label, result, args.misses)
        return 0
    if args.action == "train-nlu":
        from bot.faq.nlu_export import export

        path, count = export(faq_dir)
        _say(f"wrote {count} FAQ questions to {path}; run `make train`")
        return 0
    return 2


def _say_cv(label: str, result, misses: bool) -> None:
    from bot.faq.evaluate import FORMS

    if label:
        _say(label)
    indent = "  " if label else ""
    for form in FORMS:
        _say(f"{indent}{form:<13} top-1 {result.accuracy(form):6.1%} ({result.top1.get(form, 0)}/{result.total.get(form, 0)})")
    if misses:
        for form, expected, predicted, text in result.misses:
            _say(f"  miss [{form}] {expected} -> {predicted}: {text}")


def _cmd_staff(args) -> int:
    from bot.services.conversations import ConversationService
    from bot.services.staff import StaffError, StaffService, skills_from
    from bot.store.db import session_factory

    service = StaffService(session_factory(registry.settings().database_url))
    try:
        if args.action == "add":
            _check_roles(args.roles)  # before asking for a password that would then be thrown away
            skills_from(args.categories, args.languages, args.channels)
            password = _new_password(args.password_stdin)
            if password is None:
                return 1
            member = service.add(args.name, password, args.display_name, args.roles,
                                 skills_from(args.categories, args.languages, args.channels), args.capacity)
            _say(f"staff member {member.name} added ({', '.join(member.roles)}), "
                 f"{_routing_line(service.account(member.name))}")
        elif args.action == "skills":
            given = [args.categories, args.languages, args.channels]
            skills = None if all(v is None for v in given) else skills_from(*given)
            account = service.account(args.name)
            if skills is not None:  # an option left out keeps that part as it was
                kept = account.skills
                skills = skills_from(*(new if new is not None else list(old) for new, old in
                                       zip(given, (kept.categories, kept.languages, kept.channels))))
            account = service.set_profile(args.name, skills=skills, capacity=args.capacity)
            _say(f"{account.name}: {_routing_line(account)}")
        elif args.action == "availability":
            account = service.set_availability(args.name, args.availability)
            _say(f"{account.name} is {account.chosen_availability}")
        elif args.action == "password":
            password = _new_password(args.password_stdin)
            if password is None:
                return 1
            ended = service.reset_password(args.name, password)
            _say(f"{args.name} has a new password; {ended} desk session(s) ended")
        elif args.action == "roles":
            account = service.set_roles(args.name, args.roles)
            _say(f"{account.name} is now {', '.join(account.roles)}")
        elif args.action == "token":
            _say(service.issue_token(args.name, args.days))
        elif args.action == "link-telegram":
            member = service.link_telegram(args.name, args.telegram_user_id)
            _say(f"staff member {member.name} can now answer from the Telegram staff group")
        elif args.action == "list":
            for account in service.accounts():
                _say(f"{account.name:<20} {'disabled' if account.disabled else 'active':<9} "
                     f"{','.join(account.roles) or '-':<19} {'telegram' if account.telegram_linked else '-':<9} "
                     f"{account.display_name}  [{_routing_line(account)}]")
        elif args.action == "disable":
            ended = service.disable(args.name)
            factory = session_factory(registry.settings().database_url)
            requeued = ConversationService(factory).requeue_chats_of(args.name, f"{args.name} disabled")
            _say(f"{args.name} is disabled: {ended} session(s) and token(s) ended; desk, API and Telegram refused; "
                 f"{requeued} chat(s) back in the queue")
        elif args.action == "enable":
            service.enable(args.name)
            _say(f"{args.name} can log in again (earlier tokens stay revoked: issue new ones)")
        elif args.action == "tokens":
            _print_tokens(service.tokens(args.name))
        elif args.action == "revoke":
            revoked = service.revoke(args.token_id)
            _say(f"{revoked.kind} token {revoked.id} of {revoked.owner} revoked")
    except StaffError as exc:
        _say(str(exc), file=sys.stderr)
        return 1
    return 0


def _new_password(from_stdin: bool):
    import getpass

    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    password = getpass.getpass("password: ")
    if getpass.getpass("again: ") != password:
        _say("the passwords differ", file=sys.stderr)
        return None
    return password


def _routing_line(account) -> str:
    skills = account.skills
    parts = [",".join(p) or "any" for p in (skills.categories, skills.languages, skills.channels)]
    return (f"skills {parts[0]} / {parts[1]} / {parts[2]}, {account.capacity} chats at once, "
            f"{account.availability}")


def _check_roles(value: str) -> None:
    from bot.services.roles import RoleError, parse_roles
    from bot.services.staff import StaffError

    try:
        parse_roles(value)
    except RoleError as exc:
        raise StaffError(str(exc)) from exc


def _print_tokens(tokens) -> None:
    """Which sessions and tokens exist, for revoking one; the tokens themselves are never stored."""
    if not tokens:
        _say("no sessions or tokens")
        return
    _say(f"{'id':>5}  {'owner':<20} {'kind':<8} {'created':<17} {'last used':<17} expires (Vietnam time)")
    for t in tokens:
        _say(f"{t.id:>5}  {t.owner:<20} {t.kind:<8} {_local_time(t.created_at, '-'):<17} "
             f"{_local_time(t.last_used_at, 'never'):<17} {_local_time(t.expires_at, 'never')}")


def _minutes(d) -> str:
    if not d.count:
        return "-"
    return f"median {_duration(d.median_minutes)}, 90% within {_duration(d.p90_minutes)} ({d.count})"


def _duration(minutes: float) -> str:
    if minutes < 90:
        return f"{minutes:.0f} min"
    return f"{minutes / 60:.1f} h"


def _share(rate) -> str:
    return "-" if rate is None else f"{rate:.0%}"


def _cmd_customers(args) -> int:
    import os

    from bot.services.privacy import PrivacyService, erase_rasa_history, rasa_settings

    service = PrivacyService(session_factory(registry.settings().database_url), registry.settings().upload_dir)
    erasure = service.find(args.who)
    if erasure is None:
        _say("no conversation, ticket or customer matches that phone, email, ticket code or conversation id")
        return 1
    _say(f"{len(erasure.sender_ids)} conversation(s) with {erasure.messages} message(s), "
          f"{len(erasure.ticket_codes)} ticket(s) ({', '.join(erasure.ticket_codes) or '-'}), "
          f"{len(erasure.customer_ids)} customer record(s), {len(erasure.uploads)} uploaded file(s)")
    if not args.yes:
        _say("nothing was changed; add --yes to erase all of it")
        return 0
    service.erase(erasure)
    tracker_url, rasa_url, token = rasa_settings(os.environ)
    _say("erased: texts, uploaded files, contacts, names and Telegram ids (tickets and orders are kept without them)")
    _say(erase_rasa_history(erasure.sender_ids, tracker_url, rasa_url, token))
    return 0


def _cmd_kpi(args) -> int:
    from datetime import datetime

    from bot.gateway.kpi_api import period_from
    from bot.services.kpis import KpiService

    query = {"days": str(args.days)} if not (args.date_from or args.date_to) else \
        {"from": args.date_from or "", "to": args.date_to or ""}
    try:
        start, end = period_from(query, datetime.utcnow())
        report = KpiService(session_factory(registry.settings().database_url)).report(start, end)
    except ValueError as exc:
        _say(exc, file=sys.stderr)
        return 2
    if args.json:
        _say_json(report.as_dict())
        return 0
    t, c, s, f = report.tickets, report.chats, report.satisfaction, report.faq
    _say(f"From {format_local(report.start, 'en')} to {format_local(report.end, 'en')} (Vietnam time)")
    _say("Tickets")
    _say(f"  opened                 {t.opened}   " + ", ".join(f"{k} {v}" for k, v in t.by_category.items()))
    _say(f"  acknowledged on time   {_share(t.acknowledged_on_time.rate)} "
          f"({t.acknowledged_on_time.met} of {t.acknowledged_on_time.due} due)")
    _say(f"  resolved on time       {_share(t.resolved_on_time.rate)} "
          f"({t.resolved_on_time.met} of {t.resolved_on_time.due} due)")
    _say(f"  time to acknowledge    {_minutes(t.time_to_acknowledge)}")
    _say(f"  time to resolve        {_minutes(t.time_to_resolve)}")
    _say(f"  open and overdue now   {t.open_overdue_now}")
    _say("Chats")
    _say(f"  conversations          {c.conversations}")
    _say(f"  resolved by the bot    {_share(c.resolved_by_bot_rate)} ({c.resolved_by_bot})")
    _say(f"  handed to a person     {c.handed_to_person} ({c.handoffs_unanswered} without a staff reply yet)")
    _say(f"  waiting in the queue   {_minutes(c.waiting_for_person)}")
    _say(f"  first staff response   {_minutes(c.first_response)}")
    _say("Satisfaction")
    _say(f"  ratings                {s.ratings}" + (f", average {s.average:.2f}/5, CSAT {_share(s.csat)}" if s.ratings else ""))
    for agent, figures in s.by_agent.items():
        _say(f"    {agent:<20} {figures['ratings']} ratings, average {figures['average']:.2f}, "
              f"CSAT {_share(figures['csat'])}")
    for name, survey, shown in (("NPS (0-10, recommend)", report.nps, lambda v: f"{v:+g}"),
                                ("CES (1-5, ease)", report.ces, lambda v: f"{v:g}/5")):
        _say(f"  {name:<22} " + (f"{shown(survey.score)} from {survey.answers} answers ({survey.high} high, "
                                   f"{survey.low} low), asked {survey.asked}" if survey.answers else "no answers"))
    _say("FAQ")
    _say(f"  👍 {f.helpful}  👎 {f.not_helpful}  (helpful {_share(f.helpful_rate)}), no answer found {f.unanswered}")
    return 0


def _skill_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--categories", help="complaint categories, comma-separated (e.g. damaged,wrong_item); "
                                             "empty: any")
    parser.add_argument("--languages", help="vi, en, comma-separated; empty: any")
    parser.add_argument("--channels", help="web, telegram, rest, comma-separated; empty: any")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="hotro staff and operator tools")
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="database migrations and demo data")
    db.add_argument("action", choices=["upgrade", "seed"])
    db.add_argument("--force", action="store_true", help="seed: add the demo orders even next to real orders")
    db.set_defaults(func=_cmd_db)

    tickets = sub.add_parser("tickets", help="list, show and update tickets")
    tsub = tickets.add_subparsers(dest="action", required=True)
    tlist = tsub.add_parser("list")
    tlist.add_argument("--json", action="store_true")
    tlist.add_argument("--csv", action="store_true", help="one row per ticket, for a spreadsheet")
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

    staff = sub.add_parser("staff", help="staff accounts and API tokens")
    ssub = staff.add_subparsers(dest="action", required=True)
    sadd = ssub.add_parser("add")
    sadd.add_argument("name")
    sadd.add_argument("--display-name")
    sadd.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    sadd.add_argument("--roles", default="agent",
                      help="comma-separated: agent (chats, tickets), editor (the FAQ), admin (everything); "
                           "default agent")
    _skill_options(sadd)
    sadd.add_argument("--capacity", type=int, default=3, help="chats at once (default 3)")
    sskills = ssub.add_parser("skills", help="what routing gives NAME: categories, languages, channels; capacity")
    sskills.add_argument("name")
    _skill_options(sskills)
    sskills.add_argument("--capacity", type=int, help="chats at once")
    savail = ssub.add_parser("availability", help="online (takes new chats), away (keeps theirs) or offline")
    savail.add_argument("name")
    savail.add_argument("availability", choices=["online", "away", "offline"])
    spass = ssub.add_parser("password", help="set a new password for NAME (ends their desk sessions)")
    spass.add_argument("name")
    spass.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    sroles = ssub.add_parser("roles", help="set what NAME may do: agent, editor, admin (comma-separated)")
    sroles.add_argument("name")
    sroles.add_argument("roles")
    stoken = ssub.add_parser("token", help="print a new API token for NAME (shown once)")
    stoken.add_argument("name")
    stoken.add_argument("--days", type=int, help="valid this many days (0: no expiry; default HOTRO_STAFF_TOKEN_DAYS)")
    ssub.add_parser("list", help="every account: active or disabled, roles, linked to Telegram or not")
    sdisable = ssub.add_parser("disable", help="end NAME's desk sessions and API tokens at once and refuse new ones")
    sdisable.add_argument("name")
    senable = ssub.add_parser("enable", help="let a disabled NAME log in again")
    senable.add_argument("name")
    stokens = ssub.add_parser("tokens", help="desk sessions and API tokens (never the tokens themselves)")
    stokens.add_argument("name", nargs="?")
    srevoke = ssub.add_parser("revoke", help="end one session or API token, by the id `staff tokens` shows")
    srevoke.add_argument("token_id", type=int)
    slink = ssub.add_parser("link-telegram", help="let NAME answer customers from the Telegram staff group")
    slink.add_argument("name")
    slink.add_argument("telegram_user_id")
    staff.set_defaults(func=_cmd_staff)

    customers = sub.add_parser("customers", help="a customer's personal data")
    csub = customers.add_subparsers(dest="action", required=True)
    cforget = csub.add_parser("forget", help="erase everything a customer wrote and their contacts, on request")
    cforget.add_argument("who", help="their phone, email, a ticket code (KN-000123) or a conversation id")
    cforget.add_argument("--yes", action="store_true", help="really erase (without it: only show what would go)")
    customers.set_defaults(func=_cmd_customers)

    kpi = sub.add_parser("kpi", help="the team's figures: response times, on-time rates, CSAT, FAQ")
    kpi.add_argument("--days", type=int, default=7, help="the last N days (default 7)")
    kpi.add_argument("--from", dest="date_from", help="first day, YYYY-MM-DD (Vietnam time)")
    kpi.add_argument("--to", dest="date_to", help="last day, included")
    kpi.add_argument("--json", action="store_true")
    kpi.set_defaults(func=_cmd_kpi)

    hours = sub.add_parser("business-hours", help="the working hours and holidays the service levels may count")
    hours.add_argument("action", choices=["check"])
    hours.add_argument("file", nargs="?", help="default: HOTRO_BUSINESS_HOURS_FILE or business_hours.yml")
    hours.set_defaults(func=_cmd_business_hours)

    faq = sub.add_parser("faq", help="FAQ editor tools")
    fsub = faq.add_subparsers(dest="action", required=True)
    fcheck = fsub.add_parser("check")
    fcheck.add_argument("--dir")
    freport = fsub.add_parser("report")
    freport.add_argument("--json", action="store_true")
    freport.add_argument("--limit", type=int, default=50)
    feval = fsub.add_parser("eval")
    feval.add_argument("file")
    feval.add_argument("--dir")
    feval.add_argument("--min-top1", type=float, default=0.90)
    feval.add_argument("--write", help="also write a Markdown report to this file")
    feval.add_argument("--add-entries", help="a file of entries (faq/ format) added to a copy of faq/ for this run")
    fcv = fsub.add_parser("cv")
    fcv.add_argument("--dir")
    fcv.add_argument("--misses", action="store_true", help="list each question that found another entry")
    fcv.add_argument("--few-shot", action="store_true",
                     help="each fifth of the entries keeps only 2 vi + 1 en questions: how a new entry fares")
    ftrain = fsub.add_parser("train-nlu")
    ftrain.add_argument("--dir")
    faq.set_defaults(func=_cmd_faq)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    if _uses_database(args) and not database_ready(registry.settings().database_url):
        return 2
    return args.func(args)
