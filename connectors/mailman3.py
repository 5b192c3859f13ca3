"""`mailman3`: members into a Mailman 3 list through Mailman core's REST API (mailmanclient).

- The list is named in the location (`mm:news@example.org`) and created on the first write if
  missing (its mail domain must exist: creating one changes how mail is routed).
- A member is subscribed quietly (`pre_verified`, `pre_confirmed`, `pre_approved`) only when the
  source documents the opt-in (time and IP); otherwise Mailman asks the person to confirm.
  Pending members are never pre-confirmed. `send_welcome_message` is off unless asked for.
- A suppressed address becomes a list ban, casefolded (Mailman compares the lowercased address
  with the ban as stored: a ban with capitals never matches), which also stops the person from
  subscribing again by themselves; an existing membership or pending request for it is removed
  (a ban alone keeps the membership). See docs/decisions/0510-mailman3-target.md.
- Mailman keeps only a display name: fields, tags and consent evidence are kept in the journal,
  as the step's own state (connectors/mailing/sidecar.py); suppressed members never are.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from connectors.mailing.mailman_errors import absent_ok, translated
from connectors.mailing.mailman_notes import asked_notes, ban_notes
from connectors.mailing.mailman_state import BulkReader, ListState
from connectors.mailing.members import is_documented, is_suppressed
from connectors.mailing.refusals import mailman_refusal
from connectors.mailing.sidecar import MemberSidecar, old_sidecar_path
from migrate.connector import Capabilities, Connector, Source, StepContext, Target
from migrate.consent import (
    MEMBER_CHECKSUM,
    SUPPRESSED_CHECKSUM,
    InvalidAddressError,
    address_key,
)
from migrate.errors import FatalError, SkipItem
from migrate.i18n import N_, _, ngettext, number
from migrate.init_offer import Offer, Question, Secrets, quoted
from migrate.member_meta import member_of
from migrate.model import Action, Change, Fingerprint, ItemKind, SourceItem, TargetEntry, TargetName
from migrate.options import option

if TYPE_CHECKING:
    from mailmanclient import Client
    from mailmanclient.restobjects.mailinglist import MailingList

BANNED, MEMBER, PENDING = "banned", "member", "pending"



@dataclass(frozen=True, kw_only=True)
class Mailman3Options:
    url: str = option("url", required=True,
                      help="Mailman core's REST API root, e.g. http://127.0.0.1:8001/3.1")
    user: str = option(required=True, help="The REST API user ([webservice] admin_user).")
    password: str = option(required=True, secret=True,
                           help="The REST API password ([webservice] admin_pass).")
    welcome: bool = option("boolean", default=False,
                           help="Send Mailman's welcome message to members subscribed by the "
                                "migration.")


class RequestCounter:
    """Requests sent to Mailman, by mailmanclient (its request hook) and the bulk reader."""

    def __init__(self) -> None:
        self.requests = 0
        self._lock = threading.Lock()

    def hook(self, params: dict[str, Any]) -> dict[str, Any]:
        self.count_one()
        return params

    def count_one(self) -> None:
        with self._lock:
            self.requests += 1


def _init_connection(answers: Mapping[str, str], secrets: Secrets) -> str:
    password = secrets.ref("MAILMAN_PASSWORD",
                           "the mailman3 API password / le password de l'API mailman3")
    return ("  # The list server. Unsubscribed addresses are never subscribed again.\n"
            "  # Le serveur de listes. Les adresses désinscrites ne sont jamais réinscrites.\n"
            f"  list:\n    type: mailman3\n    url: {quoted(answers['list_url'])}\n"
            f"    user: {quoted(answers['list_user'])}\n"
            f"    password: \"{password}\"\n")


#: What `migrate init` offers: a Mailman 3 list receiving the members.
INIT_OFFER = Offer(
    moves="members", role="target", choice="mailman3", phrase=N_("Mailman (mailman3)"),
    connection=_init_connection,
    reference=lambda answers: quoted("list:" + answers["list_name"]),
    questions=(
        Question("list_url", N_("Address of Mailman's REST API")),
        Question("list_user", N_("API user name on the list server"), "api"),
        Question("list_name", N_("Address of the list there")),
    ), rank=20)


class Mailman3Connector(Connector):
    name = "mailman3"
    init_offers = (INIT_OFFER,)
    summary = "A Mailman 3 list (core REST API): members, and bans for suppressed addresses."
    Options = Mailman3Options
    config: Mailman3Options
    target_actions = ("export",)

    def open_target(self, location: str, step: StepContext) -> Mailman3Target:
        fqdn = location.strip("/").strip().lower()
        if "@" not in fqdn:
            raise FatalError(_("a Mailman list is named by its address, e.g. "
                               "'mm:news@example.org' (got '{l}')").format(l=location))
        from mailmanclient import Client

        url, user, password = self.config.url.rstrip("/"), self.config.user, self.config.password
        counter = RequestCounter()
        client = Client(url, user, password, request_hooks=[counter.hook])
        reader = BulkReader(url, user, password, counter.count_one)
        sidecar = MemberSidecar(step.state_store,
                                old_sidecar_path(step.state_dir, step.step_id, self.name))
        return Mailman3Target(client, reader, fqdn, sidecar, self.config.welcome, counter)


class Mailman3Target(Target):
    # Mailman's REST runner is one process over SQLite: more writers only wait on each other.
    capabilities = Capabilities(default_jobs=2, max_jobs=4)

    def __init__(self, client: Client, reader: BulkReader, fqdn: str, sidecar: MemberSidecar,
                 welcome: bool, counter: RequestCounter | None = None) -> None:
        self.client, self.reader, self.fqdn = client, reader, fqdn
        self.sidecar, self.welcome = sidecar, welcome
        self.counter = counter or RequestCounter()
        self._list: MailingList | None = None
        self._lock = threading.Lock()
        self._count_lock = threading.Lock()
        #: What the list holds, read once per step (list_entries or the first write), then kept
        #: up to date by our writes: a write needs no read first (decision 0510).
        self._state: ListState | None = None
        self.asked = 0  # subscriptions this run that Mailman sent a confirmation request for

    @property
    def requests(self) -> int:
        """Requests sent to Mailman so far (for tests and measurements)."""
        return self.counter.requests

    # -- the list -------------------------------------------------------------------------

    def find_list(self) -> MailingList | None:
        if self._list is None:
            with translated(missing_ok=True):
                self._list = self.client.get_list(self.fqdn)
        return self._list

    def ensure_list(self) -> MailingList:
        with self._lock:
            if self.find_list() is None:
                local, _at, domain = self.fqdn.partition("@")
                found = None
                with translated(missing_ok=True):
                    found = self.client.get_domain(domain)
                if found is None:
                    raise FatalError(_("Mailman has no mail domain '{d}': create it first (in "
                                       "Postorius: Domains › Add domain)").format(d=domain))
                with translated():
                    self._list = found.create_list(local)
                self._state = ListState()  # a new list holds nothing
            return self._list

    def list_state(self) -> ListState:
        """The list's members, bans and pending requests: read in bulk on first use."""
        with self._lock:
            if self._state is None:
                mailing_list = self._list
                if mailing_list is None:
                    return ListState()  # not created yet: nothing is there (and nothing kept)
                with translated():
                    self._state = self.reader.read_state(mailing_list.list_id, _identity)
            return self._state

    # -- listing --------------------------------------------------------------------------

    def list_entries(self) -> list[TargetEntry]:
        mailing_list = self.find_list()
        if mailing_list is None:
            return []
        held = self.list_state()
        states: dict[str, str] = {}
        with held.lock:
            for ban in held.bans:
                states[_identity(ban)] = BANNED
            for key, tokens in held.pending.items():
                if tokens:
                    states[key] = PENDING
            for email in held.members:
                states[_identity(email)] = MEMBER  # a banned member is still subscribed
        fingerprints = {key: record.get("fp") for key, record in self.sidecar.records().items()}
        return [_entry(key, state, fingerprints.get(key)) for key, state in states.items()]

    def name_for(self, item: SourceItem) -> TargetName:
        return TargetName(item.key, refusal=_refusal(item))

    # -- writing --------------------------------------------------------------------------

    def plan_notes(self, changes: Sequence[Change]) -> list[str]:
        """Who Mailman will e-mail a confirmation request, and which parts will be slow."""
        writes = [c for c in changes if c.action.writes and not c.item.skip_reason]
        asked = sum(1 for c in writes if c.action is Action.CREATE
                    and not is_suppressed(c.item) and not is_documented(c.item))
        bans = sum(1 for c in writes if is_suppressed(c.item))
        return [*asked_notes(asked), *ban_notes(bans)]

    def write_order(self, change: Change) -> int:
        """Quiet subscriptions first, then those Mailman asks to confirm, then bans.

        At each new subscription Mailman reads every request awaiting confirmation on the
        list (about 0.7 ms each on SQLite) and every ban of the list (about 0.03 ms each); at
        each new ban, every ban again. In this order each kind meets none of the kinds that
        slow it, and only its own growth remains Mailman's cost (decision 0510). Nobody
        suppressed is ever subscribed meanwhile: suppression is checked at every write."""
        if is_suppressed(change.item):
            return 2
        return 0 if is_documented(change.item) else 1

    def write(self, change: Change, source: Source, idempotency_key: str) -> TargetEntry:
        item = change.item
        mailing_list = self.ensure_list()
        held = self.list_state()
        if is_suppressed(item):
            self._suppress(mailing_list, held, item)
            return _entry(item.key, BANNED, None)
        self.sidecar.record(item, idempotency_key)  # first: a member found has its record
        state = self._subscribe(mailing_list, held, item)
        return _entry(item.key, state, item.fingerprint.etag)

    def _subscribe(self, mailing_list: MailingList, held: ListState, item: SourceItem) -> str:
        from urllib.error import HTTPError

        member = member_of(item)
        forms = _ban_forms(member.email, item.key)
        # What the list already holds decides without a request; the same order as _state_of.
        if held.is_member(forms):
            return MEMBER
        if held.is_pending(item.key):
            return PENDING
        if held.is_banned(forms):
            self.sidecar.forget(item)
            raise SkipItem(_("banned on the list: left banned, never unbanned by a migration"))
        refusal = _refusal(item)
        if refusal:
            raise SkipItem(refusal)
        local = member.email.strip().rpartition("@")[0]
        # An international domain goes in its ASCII form (punycode), which Mailman accepts.
        address = f"{local}@{item.key.rpartition('@')[2]}"
        documented = is_documented(item)
        try:
            with translated(passing=(400, 409)):
                answer = mailing_list.subscribe(
                    address, member.name or None, pre_verified=documented,
                    pre_confirmed=documented, pre_approved=documented,
                    send_welcome_message=self.welcome)
        except HTTPError as error:
            # 409: already a member or already asked to confirm (perhaps a case variant, or
            # our own retry); 400: refused, e.g. banned. What is there decides, not the text.
            # Changed since the bulk read (the person, a moderator): read this one back.
            state = self._state_of(mailing_list, member.email)
            if state in (MEMBER, PENDING):
                return state
            if state == BANNED:
                self.sidecar.forget(item)
                raise SkipItem(_("banned on the list: left banned, never unbanned by a "
                                 "migration")) from None
            raise SkipItem(_("Mailman refused it (HTTP {code}): {why}").format(
                code=error.code, why=error.reason)) from None
        if isinstance(answer, dict) and "token" in answer:
            held.add_pending(item.key, str(answer["token"]))
            with self._count_lock:
                self.asked += 1
            return PENDING
        held.add_member(address)
        return MEMBER

    def _suppress(self, mailing_list: MailingList, held: ListState, item: SourceItem) -> None:
        """Ban every form Mailman may compare, drop the membership and any pending request.

        One request (the ban) for an address not on the list; a membership or a pending
        request known from the bulk read costs one more each."""
        from urllib.error import HTTPError

        self.sidecar.forget(item)
        forms = _ban_forms(member_of(item).email, item.key)
        to_ban, subscribed, tokens = held.suppression_plan(item.key, forms)
        refused: list[HTTPError] = []
        with translated():
            for form in to_ban:
                try:
                    with translated(passing=(400,)):
                        mailing_list.bans.add(form)
                except HTTPError as error:
                    # 400: banned since the bulk read (then done), or a form Mailman cannot
                    # take at all: an international domain in Unicode, which Mailman only
                    # knows in punycode — the punycode form is banned instead.
                    if form not in mailing_list.bans:
                        refused.append(error)
                        continue
                held.add_ban(form)
            for form in subscribed:  # a ban alone keeps the membership
                with absent_ok():
                    self.reader.delete(f"lists/{mailing_list.list_id}/member/{quote(form)}",
                                       {"pre_confirmed": "True", "pre_approved": "True"})
                held.remove_member(form)
            for token in tokens:
                with absent_ok():  # 404: already confirmed, discarded or expired
                    mailing_list.moderate_request(token, "discard")
                held.remove_pending(item.key, token)
        if refused and len(refused) == len(to_ban):  # not one form banned
            raise SkipItem(_("Mailman refused to ban it (HTTP {code}): {why}; it is not on "
                             "the list").format(code=refused[0].code, why=refused[0].reason))

    @staticmethod
    def _is_member(mailing_list: MailingList, email: str) -> bool:
        try:
            mailing_list.get_member(email)
        except ValueError:  # mailmanclient: "… is not a member address of …"
            return False
        return True

    def _state_of(self, mailing_list: MailingList, email: str) -> str | None:
        key = _identity(email)
        with translated():
            if any(self._is_member(mailing_list, form) for form in _ban_forms(email, key)):
                return MEMBER
            if any(form in mailing_list.bans for form in _ban_forms(email, key)):
                return BANNED
            if any(_identity(r["email"]) == key
                   for r in mailing_list.get_requests(token_owner="subscriber")):
                return PENDING
        return None

    def verify(self, change: Change, source: Source, idempotency_key: str) -> TargetEntry | None:
        mailing_list = self.find_list()
        if mailing_list is None:
            return None
        item = change.item
        state = self._state_of(mailing_list, member_of(item).email)
        if is_suppressed(item):
            return _entry(item.key, BANNED, None) if state == BANNED else None
        if state in (MEMBER, PENDING):
            return _entry(item.key, state, item.fingerprint.etag)
        return None

    def notes(self) -> list[str]:
        if not self.asked:
            return []
        return [ngettext(
            "Mailman e-mailed {n} person a request to confirm their subscription (their opt-in "
            "is not documented at the source); they receive nothing from the list until they "
            "confirm.",
            "Mailman e-mailed {n} people a request to confirm their subscription (their opt-in "
            "is not documented at the source); they receive nothing from the list until they "
            "confirm.", self.asked).format(n=number(self.asked))]

    def close(self) -> None:
        self.sidecar.close()
        self.reader.close()


def _entry(key: str, state: str, fingerprint: str | None) -> TargetEntry:
    checksum = SUPPRESSED_CHECKSUM if state == BANNED else MEMBER_CHECKSUM
    return TargetEntry(key, ItemKind.MEMBER,
                       Fingerprint(etag=f"{fingerprint or 'foreign'}|{state}", checksum=checksum),
                       {"state": state})


def _identity(address: str) -> str:
    try:
        return address_key(address)
    except InvalidAddressError:
        return address.strip().lower()


def _ban_forms(email: str, key: str) -> list[str]:
    """Mailman lowercases; our key casefolds and writes IDN domains in punycode: ban both."""
    return list(dict.fromkeys((email.strip().lower(), key)))


def _refusal(item: SourceItem) -> str | None:
    """Why Mailman will refuse to subscribe this member, known before asking it (see
    `mailman_refusal`). Bans take their own path and are not refused here."""
    email = member_of(item).email
    if not email or is_suppressed(item):
        return None
    return mailman_refusal(email)
