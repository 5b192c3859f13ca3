"""The contract between the core and every connector.

A connector type (one class, registered by name) is configured by a plan's connection and opens
sources and targets for steps:

    @dataclass(frozen=True, kw_only=True)
    class LocalOptions:
        path: str = option(required=True, help="…")

    class LocalConnector(Connector):
        name = "local"
        Options = LocalOptions  # `options`, the derived OptionSet, is what the core reads
        config: LocalOptions    # what the connector receives: typed, defaults filled in
        source_actions = target_actions = ("copy",)

Step options (a step's `with:`) are declared the same way, as `SourceStepOptions` /
`TargetStepOptions`, and read typed with `self.target_options(step)`.

A `Source` lists items in bulk and streams their content. A `Target` lists what it holds in bulk,
names items the way it must, writes one item idempotently and verifies one item. A target
declares its abilities in a frozen `Capabilities` and may implement optional hooks (`settle`,
`write_batch`, `write_order`, `notes`, `plan_notes`); the core reads both once into a
`migrate.features.Features` when it opens the target — callers test that, never probe.

Errors: raise `TransientError(retry_after=…)` for what is worth retrying, `FatalError` for what
stops the step (credentials, quota), `SkipItem`/`Unsupported` for one item. Never return False
for a failure and never match on error text.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, ClassVar

from migrate.consent import MemberTally
from migrate.model import Change, SourceItem, TargetEntry, TargetName
from migrate.options import OptionSet, declared, typed
from migrate.post_counts import PostTally

if TYPE_CHECKING:
    from migrate.init_offer import Offer
    from migrate.journal.step_state import StepState


@dataclass(frozen=True)
class Capabilities:
    """What a target can do; read from the server where it says so (instance or capabilities).

    The first fields are abilities the core acts on; the rest tune how the runner writes."""

    #: The target keeps the modification time it is given: the diff compares files by size
    #: and time. Without it (nor a checksum below), a file already there is never taken for
    #: the source's on its size alone (migrate/features.py, `Comparison`).
    preserves_mtime: bool = False
    #: Checksum algorithms the target keeps and lists ("sha256", "md5"): a checksum in one of
    #: them on both sides decides whether a file is the same.
    checksum_algorithms: tuple[str, ...] = ()
    #: The target recreates the source's sharing (`FileMeta.permissions`): without it, the
    #: plan says once that a step's shared files arrive unshared.
    can_share: bool = False
    #: The longest post the target takes, in characters (a Mastodon instance's own limit).
    max_post_length: int | None = None
    #: How many items to write at once by default, and the most the service tolerates.
    default_jobs: int = 4
    max_jobs: int | None = None
    #: The host this target writes to, when it is not the connection's `url` option: writes by
    #: every plan of one process to one host share one limit (see migrate/runner/hosts.py).
    host: str | None = None
    #: Targets that write many items in one request (an import API) give their group size and
    #: implement `Target.write_batch`; the runner then writes in groups
    #: (migrate/runner/batching.py).
    batch_size: int | None = None
    #: True for targets whose writes are files on this computer, no more durable than the
    #: journal itself: their INTENT needs no wait for the disk (see `Journal.record_intents`).
    #: Each must appear whole under its final name with the source's size and time, so a
    #: copy a crash leaves is adopted by the next diff: new items need no INTENT at all
    #: (migrate/runner/intents.py).
    local_files: bool = False
    #: Its writes are CPU work on this computer (local files without fsync): with
    #: `local_files`, the runner has them made by `jobs` processes forked once the step's
    #: changes are known rather than by threads, which share one interpreter lock
    #: (migrate/runner/forked.py, decision 0496). A write must then change nothing in the
    #: target or source that this process reads afterwards (each process has its own copy).
    write_processes: bool = False
    #: Its `list_entries` may run in a thread of its own while the source lists and its
    #: `prepare_names` runs in the main thread (migrate/runner/listing_thread.py, decision
    #: 0486): the listing uses no client a source could share, nor `StepContext.state_store`
    #: (the journal's SQLite connection belongs to the main thread), and `prepare_names`
    #: reads nothing the listing learns. The core then lists both sides at once.
    lists_beside_source: bool = False


@dataclass(frozen=True)
class StepContext:
    """What a source or target needs to know about the step it serves.

    `options` are the step's `with:` options, validated, with defaults filled in. `state` is the
    connector's own cursor from the previous run (a Drive changes token, a feed ETag), passed in
    explicitly; a source returns the new one in its `Listing` and the core stores it.
    """

    step_id: str
    action: str
    options: Mapping[str, Any]
    plan_id: str
    base_dir: Path
    state: Mapping[str, Any] = field(default_factory=dict)
    #: Where the journal and reports live (`.migrate/` beside the plan, or `--state-dir`): where
    #: an earlier version may have left a connector's state file, to move into `state_store`.
    state_dir: Path | None = None
    #: The connector's own state for this step, kept in the journal (never a file of its own):
    #: `get(name)`, `put(name, value)`, `update(name, change)` of JSON values
    #: (migrate/journal/step_state.py). None when there is no journal (a first dry run).
    state_store: StepState | None = None


@dataclass
class Listing:
    """Everything a source offers for a step, and the cursor to store once it is applied."""

    items: Iterable[SourceItem]
    cursor: Mapping[str, Any] | None = None
    #: Member sources: their own counts, merges and notes, for the reconciliation.
    tally: MemberTally | None = None
    #: Post sources: how many entries the export holds, for the post reconciliation.
    posts: PostTally | None = None


class Source(ABC):
    """Where items come from."""

    #: Rules the core runs over every step's listing together before any diff
    #: (migrate/step_hooks.py): a member source declares the consent rules,
    #: `(migrate.consent.hook.CONSENT,)`.
    step_hooks: ClassVar[tuple[Any, ...]] = ()

    @abstractmethod
    def list_items(self) -> Listing:
        """List every item in scope, in bulk (few requests for a whole tree)."""

    def open(self, item: SourceItem) -> AbstractContextManager[BinaryIO]:
        """Stream an item's content. Raises `SkipItem` if it vanished since it was listed."""
        raise NotImplementedError(f"{type(self).__name__} has no content to stream")

    def close(self) -> None:
        """Release connections and files."""


class Target(ABC):
    """Where items go."""

    capabilities: Capabilities = Capabilities()

    @abstractmethod
    def list_entries(self) -> Iterable[TargetEntry]:
        """List everything the target holds in the step's scope, in bulk."""

    def prepare_names(self, items: Sequence[SourceItem]) -> None:
        """Called once with every item of the step before `name_for`, so a target can give
        stable, distinct names to items that would collide (same name in one folder)."""

    def name_for(self, item: SourceItem) -> TargetName:
        """The name this item takes on the target; sanitised names say why they changed."""
        return TargetName(item.path)

    def name_key(self, name: str) -> str:
        """How the target compares names: two names with one key are one item there (a server
        that stores names in one Unicode form, a file system that ignores case). The diff
        matches listed entries to items by this key, so a name is found whatever form the
        target listed it in."""
        return name

    @abstractmethod
    def write(self, change: Change, source: Source, idempotency_key: str) -> TargetEntry:
        """Create or replace one item and return it as it now stands on the target.

        Must be idempotent for one `idempotency_key`: writing twice leaves one copy. Nothing half
        written may ever be visible under the final name.
        """

    def plan_notes(self, changes: Sequence[Change]) -> list[str]:
        """Plain sentences the plan shows under the step, before anything is written: what
        these changes will cause beyond the items themselves (e-mails a service will send,
        a slow part). `changes` are the step's changes as planned. Most targets have none."""
        return []

    def write_order(self, change: Change) -> int:
        """Where this change goes among the step's writes, lowest first. The sort is stable:
        equal values keep source order (parents before children, oldest post first), which is
        what most targets want. A service that slows down as one kind of write piles up has
        that kind written last (Mailman checks every subscription awaiting confirmation on
        each new subscription: decision 0510)."""
        return 0

    def settle(self, written: Sequence[TargetEntry]) -> list[TargetEntry]:
        """Called by the runner, from one thread, with entries `write` returned, just before
        they are journaled as done; returns them in the same order.

        A target whose writes do not say which version they made (a WebDAV PUT answered
        without an ETag) reads those versions back here in bulk (one listing per folder, say)
        instead of once per item, so later edits on the target are still recognised. If this
        raises, the items stay in doubt and are verified on the next start."""
        return list(written)

    def write_batch(self, changes: Sequence[Change], source: Source,
                    keys: Sequence[str]) -> list[TargetEntry | Exception]:
        """Write several items at once (only if `capabilities.batch_size` is set): one result
        per change, in order — the entry as it now stands, or the exception that item would
        have raised from `write` (`SkipItem`, `TransientError`…). Raising fails the whole
        group. Same idempotency rule as `write`; `verify` stays per item."""
        raise NotImplementedError(f"{type(self).__name__} does not write in batches")

    @abstractmethod
    def verify(self, change: Change, source: Source, idempotency_key: str) -> TargetEntry | None:
        """Read back an item whose write may or may not have happened (a crash in between).

        Return the entry if the item is there whole and right; otherwise remove any partial
        leftovers of that write and return None, so that it is written again with the same key.
        """

    def notes(self) -> list[str]:
        """Plain sentences about the step as a whole, asked once after its writes and printed
        after its summary (e.g. posts left for later runs by a rate limit, and when the work
        should end). Most targets have none."""
        return []

    def run_state(self) -> dict[str, Any]:
        """What this opening of the target learnt during the run that a later opening, in
        the same run, must start from (JSON). A fleet writes a step in batches, each on a
        target opened afresh, and hands each batch of an ordered step its predecessor's
        `run_state` through `resume_run`: posts left for later by a spent rate limit stay
        left, and the last `notes` count them all. Most targets have none."""
        return {}

    def resume_run(self, state: dict[str, Any]) -> None:
        """Start from what an earlier opening in the same run left (`run_state`)."""

    def close(self) -> None:
        """Release connections and files."""


@dataclass(frozen=True)
class NoOptions:
    """The options of a connector (or a step side) that declares none."""


#: Options dataclass → the `OptionSet` derived from it, on each connector class.
_DERIVED = (("Options", "options"), ("SourceStepOptions", "source_step_options"),
            ("TargetStepOptions", "target_step_options"))


class Connector:
    """A connector type: its options, the actions it serves, and how it opens sources/targets.

    `Options`, `SourceStepOptions` and `TargetStepOptions` are frozen dataclasses whose fields
    are made with `migrate.options.option`; `options`, `source_step_options` and
    `target_step_options` (the `OptionSet`s validation, the schema and `connectors show` read)
    are derived from them when the class is defined.
    """

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    #: The service's own name as people know it ("Nextcloud"), not translated: the titles and
    #: columns the core shows about it (the report's share and post maps). Empty: the type name.
    label: ClassVar[str] = ""
    Options: ClassVar[type] = NoOptions
    SourceStepOptions: ClassVar[type] = NoOptions
    TargetStepOptions: ClassVar[type] = NoOptions
    options: ClassVar[OptionSet] = OptionSet()
    source_actions: ClassVar[tuple[str, ...]] = ()
    target_actions: ClassVar[tuple[str, ...]] = ()
    source_step_options: ClassVar[OptionSet] = OptionSet()
    target_step_options: ClassVar[OptionSet] = OptionSet()
    #: What `migrate init` can offer with this connector (see migrate/init_offer.py): the
    #: questions it asks and the connection it writes into a scaffolded plan.
    init_offers: ClassVar[tuple[Offer, ...]] = ()
    #: The connection's name in the plan ("drive"), set by the core when it opens a step: for
    #: messages ("migrate login PLAN drive") and to find what `migrate login` stored for it.
    connection: str | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for dataclass_name, set_name in _DERIVED:
            if dataclass_name in cls.__dict__:
                setattr(cls, set_name, declared(cls.__dict__[dataclass_name]))

    def __init__(self, config: Mapping[str, Any], base_dir: Path) -> None:
        """`config` holds the connection's validated options, secrets resolved; the connector
        keeps them typed (`self.config`, an `Options`). Relative paths are relative to
        `base_dir`, the plan file's folder."""
        # A class still declaring a bare `options = OptionSet(…)` gets the mapping as before
        # (tests/test_options.py requires the dataclass of every registered connector).
        declares = self.Options is not NoOptions or not self.options.options
        self.config: Any = typed(self.Options, config) if declares else config
        self.base_dir = base_dir

    def source_options(self, step: StepContext) -> Any:
        """The step's `with:` options this connector declares as a source, typed."""
        return typed(self.SourceStepOptions, step.options)

    def target_options(self, step: StepContext) -> Any:
        """The step's `with:` options this connector declares as a target, typed."""
        return typed(self.TargetStepOptions, step.options)

    def local_folder(self, location: str) -> Path | None:
        """The folder on this computer a step's location designates, if it is one: the core
        then checks, offline, that a source folder exists and that a target folder is not
        inside its source folder. Must contact nothing."""
        return None

    def open_source(self, location: str, step: StepContext) -> Source:
        raise NotImplementedError(f"{self.name} cannot be a source")

    def open_target(self, location: str, step: StepContext) -> Target:
        raise NotImplementedError(f"{self.name} cannot be a target")

    def login(self, store: Path, ask: Callable[[str], str], say: Callable[[str], None]) -> None:
        """Optional: an interactive sign-in for `migrate login` (a volunteer's Google account),
        kept in `store`. Only connectors that need one implement it (see
        `migrate.features.login_of`)."""
        raise NotImplementedError(f"{self.name} needs no sign-in")


def iter_chunks(stream: BinaryIO, size: int = 1 << 20) -> Iterator[bytes]:
    """Read a stream in bounded chunks, so memory stays flat whatever the file size."""
    while chunk := stream.read(size):
        yield chunk
