"""`mailchimp`: an audience read through the Marketing API v3, members of every status.

A thin `requests` client rather than the official SDK (docs/decisions/0500): the SDK returns a
`Response` instead of raising on a bare 403, parses only `application/json` (Mailchimp's
errors are `application/problem+json`) and gives no control over its connection pool. Members
are paged with `count=1000`/`offset` and a `fields` mask, pages fetched in parallel within
Mailchimp's limit of 10 connections; a member with more tags than the inline 50 gets its full
list from the member tags endpoint. 429 and a bare 403 are throttling: retried.

Archived contacts are not in the default member listing (they are asked for with
`status=archived`, docs/decisions/0532), and they matter: an archived contact may have
unsubscribed before, so the core suppresses it. The counts reconciled are those of the members
actually listed; the audience's `stats`, which Mailchimp caches for minutes, are shown beside
them for information only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from connectors.mailing import http as web
from connectors.mailing.evidence import permission_consent
from connectors.mailing.members import MemberCollector, MemberPolicy
from migrate.connector import Connector, Listing, Source, StepContext
from migrate.consent.hook import CONSENT
from migrate.errors import FatalError, TransientError
from migrate.i18n import N_, _
from migrate.init_offer import Offer, Question, Secrets, quoted
from migrate.options import option

PAGE = 1000
DATACENTER = re.compile(r"^[a-z]{2}[0-9]{1,3}$")
INLINE_TAGS = 50
MEMBER_FIELDS = ",".join(f"members.{f}" for f in (
    "id", "email_address", "status", "full_name", "merge_fields", "tags", "tags_count",
    "interests", "marketing_permissions", "language", "timestamp_signup", "ip_signup",
    "timestamp_opt", "ip_opt", "source", "unsubscribe_reason", "vip", "last_changed")
    ) + ",total_items"
SERVICE = "Mailchimp"
RENEW = ("Create a new API key in Mailchimp (Profile › Extras › API keys) and put it where "
         "the plan's api_key points.")


@dataclass(frozen=True, kw_only=True)
class MailchimpOptions:
    api_key: str = option(required=True, secret=True,
                          help="A Mailchimp API key (ends with the datacenter, e.g. '…-us21').")
    url: str | None = option(help="The API root; by default "
                                  "https://<datacenter>.api.mailchimp.com/3.0 from the key. "
                                  "Set it only for a test server.")
    connections: int = option("integer", default=10,
                              help="Requests at once (Mailchimp allows at most 10).")


def _init_connection(answers: Mapping[str, str], secrets: Secrets) -> str:
    key = secrets.ref("MAILCHIMP_API_KEY", "a Mailchimp API key / une clé d'API Mailchimp")
    return ("  # The Mailchimp account (every member, whatever their status).\n"
            "  # Le compte Mailchimp (tous les membres, quel que soit leur statut).\n"
            f"  members_source: {{type: mailchimp, api_key: \"{key}\"}}")


#: What `migrate init` offers: the members of a Mailchimp audience, as a source.
INIT_OFFER = Offer(
    moves="members", role="source", choice="mailchimp", phrase=N_("from Mailchimp"),
    connection=_init_connection,
    reference=lambda answers: quoted(f"members_source:{answers['mailchimp_audience']}"),
    questions=(Question("mailchimp_audience", N_("Name of the Mailchimp audience")),), rank=10)


class MailchimpConnector(Connector):
    name = "mailchimp"
    init_offers = (INIT_OFFER,)
    summary = "A Mailchimp audience, through the Marketing API (members of every status)."
    Options = MailchimpOptions
    config: MailchimpOptions
    source_actions = ("export",)
    SourceStepOptions = MemberPolicy

    def open_source(self, location: str, step: StepContext) -> MailchimpSource:
        key = self.config.api_key
        url = self.config.url or f"https://{datacenter(key)}.api.mailchimp.com/3.0"
        connections = max(1, min(10, self.config.connections))
        return MailchimpSource(url.rstrip("/"), key, location.strip("/"), connections,
                               self.source_options(step))


def datacenter(key: str) -> str:
    """`us21` from `…-us21`. A key without it would put the whole secret into the host name:
    refused, without repeating the key."""
    prefix, dash, center = key.strip().rpartition("-")
    if not dash or not prefix or not DATACENTER.match(center):
        raise FatalError(_("the Mailchimp API key does not end with its datacenter (such as "
                           "'-us21'): copy the whole key from Mailchimp (Profile › Extras › API "
                           "keys), or set 'url' for a test server"))
    return center


class MailchimpSource(Source):
    step_hooks = (CONSENT,)  # suppression across steps, the reconciliation

    def __init__(self, url: str, api_key: str, audience: str, connections: int,
                 policy: MemberPolicy) -> None:
        self.url, self.audience, self.policy = url, audience, policy
        self.connections = connections
        self.http = web.session(connections)
        self.http.auth = ("transhumance", api_key)
        self.requests = 0

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        """One GET, retried while Mailchimp throttles."""
        return web.with_retries(lambda: self._get(path, params))

    def _get(self, path: str, params: Mapping[str, Any]) -> dict[str, Any]:
        self.requests += 1
        response = web.request(self.http, "GET", self.url + path, SERVICE, params=params)
        if response.status_code == 200:
            return response.json()  # type: ignore[no-any-return]
        if response.status_code == 403 and not response.content:
            # Mailchimp's edge throttles with a bare 403 and no body: not an auth failure.
            raise TransientError(_("Mailchimp is throttling requests; waiting"), retry_after=2)
        transient = web.transient_or_none(response, SERVICE)
        if transient is not None:
            raise transient
        if response.status_code in (401, 403):
            raise web.refused(SERVICE, _(RENEW))
        if response.status_code == 404:
            raise FatalError(_("Mailchimp has no audience '{a}'").format(a=self.audience))
        detail = _problem_detail(response)
        raise FatalError(_("Mailchimp answered HTTP {code}: {detail}").format(
            code=response.status_code, detail=detail))

    def find_audience(self) -> dict[str, Any]:
        found = self.get("/lists", count=PAGE, fields="lists.id,lists.name,lists.stats")["lists"]
        for audience in found:
            if self.audience in (audience["id"], audience["name"]):
                return audience  # type: ignore[no-any-return]
        names = ", ".join(f"'{a['name']}'" for a in found) or _("none")
        raise FatalError(_("no Mailchimp audience is called '{a}' (there are: {names})").format(
            a=self.audience, names=names))

    def list_items(self) -> Listing:
        audience = self.find_audience()
        interests = self.interest_names(audience["id"])
        collector = MemberCollector(f"mailchimp:{audience['name']}", self.policy)
        seen: set[str] = set()
        for status in (None, "archived"):
            for member in self.members(audience["id"], status):
                if member["id"] not in seen:  # whether or not the default listing has them
                    seen.add(member["id"])
                    _collect(collector, member, interests)
        collector.tally.notes.append(_stats_note(audience["stats"]))
        return collector.listing()

    def members(self, list_id: str, status: str | None = None) -> Iterator[dict[str, Any]]:
        """Every member (of one status), pages fetched in parallel; heavy-tag members
        completed."""
        path = f"/lists/{list_id}/members"
        query: dict[str, Any] = {"count": PAGE, "fields": MEMBER_FIELDS}
        if status:
            query["status"] = status
        first = self.get(path, offset=0, **query)
        offsets = range(PAGE, int(first["total_items"]), PAGE)
        with ThreadPoolExecutor(self.connections) as pool:
            pages = pool.map(lambda o: self.get(path, offset=o, **query), offsets)
            for page in (first, *pages):
                heavy = [m for m in page["members"] if m.get("tags_count", 0) > len(m["tags"])]
                full = dict(zip([m["id"] for m in heavy],
                                pool.map(lambda m: self.all_tags(list_id, m["id"]), heavy),
                                strict=True))
                for member in page["members"]:
                    if member["id"] in full:
                        member["tags"] = full[member["id"]]
                    yield member

    def all_tags(self, list_id: str, member_id: str) -> list[dict[str, Any]]:
        tags: list[dict[str, Any]] = []
        while True:
            page = self.get(f"/lists/{list_id}/members/{member_id}/tags", count=PAGE,
                            offset=len(tags))
            tags += page["tags"]
            if not page["tags"] or len(tags) >= int(page["total_items"]):
                return tags

    def interest_names(self, list_id: str) -> dict[str, str]:
        names: dict[str, str] = {}
        categories = self.get(f"/lists/{list_id}/interest-categories", count=PAGE)
        for category in categories["categories"]:
            found = self.get(f"/lists/{list_id}/interest-categories/{category['id']}/interests",
                             count=PAGE)
            for interest in found["interests"]:
                names[interest["id"]] = f"{category['title']}: {interest['name']}"
        return names

    def close(self) -> None:
        self.http.close()


def _collect(collector: MemberCollector, member: dict[str, Any],
             interests: Mapping[str, str]) -> None:
    fields = {k: v for k, v in (member.get("merge_fields") or {}).items() if v not in ("", None)}
    chosen = [interests.get(k, k) for k, on in (member.get("interests") or {}).items() if on]
    if chosen:
        fields["INTERESTS"] = chosen
    name = member.get("full_name") or " ".join(
        str(fields.get(k, "")) for k in ("FNAME", "LNAME")).strip()
    # Mailchimp's `*_signup` is the sign-up and `*_opt` the confirmation: the export's
    # OPTIN_* and CONFIRM_* (connectors/mailing/evidence.py).
    consent = {"optin_time": member.get("timestamp_signup"),
               "optin_ip": member.get("ip_signup"),
               "confirm_time": member.get("timestamp_opt"), "confirm_ip": member.get("ip_opt"),
               "source": member.get("source"),
               "unsubscribe_reason": member.get("unsubscribe_reason")}
    consent |= permission_consent((p.get("text", ""), bool(p.get("enabled")))
                                  for p in member.get("marketing_permissions") or [])
    collector.add(member["email_address"], member["status"], f"member {member['id']}",
                  name=name, fields=fields, tags=[t["name"] for t in member.get("tags") or []],
                  language=member.get("language") or "", consent=consent,
                  vip=member.get("vip"), last_changed=member.get("last_changed") or "")


def _stats_note(stats: Mapping[str, Any]) -> str:
    """Mailchimp's own counts, beside the reconciliation: cached by Mailchimp, so a recent
    change may not show in them yet."""
    return _("Mailchimp's own counts, for information (Mailchimp updates them a few minutes "
             "late): {sub} subscribed, {unsub} unsubscribed, {clean} cleaned, {all} contacts "
             "in all").format(sub=stats.get("member_count", "?"),
                              unsub=stats.get("unsubscribe_count", "?"),
                              clean=stats.get("cleaned_count", "?"),
                              all=stats.get("total_contacts", "?"))


def _problem_detail(response: Any) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason or ""
    return str(body.get("detail") or body.get("title") or "")
