"""Words stored in English (journal states, run outcomes, roles, actions, member statuses) and
translated only when shown, with `_(word)`. Listed here so the catalogue has them: a new value
written to the journal or a report belongs in this list too.
"""

from migrate.i18n import N_

#: Item states in the journal (`migrate status`).
STATES = (N_("intent"), N_("done"), N_("failed"), N_("skipped"), N_("planned"), N_("seen"),
          N_("conflict"), N_("stale"), N_("unchanged"))
#: A run's outcome (`migrate status`), and a client's status in the many-clients table.
OUTCOMES = (N_("ok"), N_("failed"), N_("cancelled"), N_("interrupted"), N_("incomplete"),
            N_("pending"), N_("stopped"), N_("error"))
#: A connection's role in a step, and the step actions (plan errors, reports).
ROLES = (N_("source"), N_("target"))
ACTIONS = (N_("copy"), N_("mirror"), N_("export"))
#: Sharing roles (Drive's words, in the plan, the share map and the report).
SHARE_ROLES = (N_("reader"), N_("writer"), N_("commenter"), N_("owner"), N_("organizer"))
#: Member statuses (the reconciliation table): see `migrate.consent.STATUSES`.
MEMBER_STATUSES = (N_("subscribed"), N_("pending"), N_("transactional"), N_("archived"),
                   N_("unsubscribed"), N_("cleaned"), N_("banned"), N_("blocklisted"))
