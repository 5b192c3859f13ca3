"""The options of `mastodon`: its connection's and a step's (read by the target, the text and
the media helpers, hence a module of their own)."""

from __future__ import annotations

from dataclasses import dataclass

from migrate.options import option


@dataclass(frozen=True, kw_only=True)
class MastodonOptions:
    url: str = option("url", required=True,
                      help="The instance's address (https://mastodon.example).")
    token: str = option(required=True, secret=True,
                        help="An access token with 'read' and 'write' scopes (Preferences → "
                             "Development → New application); give it as "
                             "${env:MASTODON_TOKEN}.")
    timeout: float = option("number", default=30, help="Seconds to wait for each answer.")
    rate_windows: dict[str, float] = option(
        "mapping",
        help="Only if this server changed Mastodon's rate-limit windows: their length in "
             "seconds, e.g. {statuses: 10800, media: 1800, requests: 300} (Mastodon's). "
             "The limits themselves are read from the server's answers.")
    max_wait: float = option(
        "number", default=300,
        help="Longest pause (seconds) for a rate limit within one run; posts that would "
             "wait longer are left for the next run.")


@dataclass(frozen=True, kw_only=True)
class MastodonStepOptions:
    long_posts: str = option(
        choices=("thread", "truncate"), default="thread",
        help="Posts longer than the instance allows: a thread split at sentences "
             "(default), or one status cut short with a link to the original.")
    visibility: str = option(choices=("public", "unlisted", "private"), default="public",
                             help="Who sees the statuses.")
    sensitive: bool = option("boolean", default=False,
                             help="Mark pictures and videos as sensitive (hidden until clicked).")
    spoiler_text: str | None = option(help="A content warning shown before every status.")
    language: str | None = option(
        help="Language (fr, en…) for posts whose language neither the source says nor can be "
             "recognised with confidence.")
    origin_line: str | None = option(
        help="The line ending each post, with {platform}, {date} and {url}. Default in "
             "the post's language: 'Publié initialement sur {platform} le {date} : {url}'.")
    accounts: dict[str, str] = option(
        "mapping",
        help="Old handles to fediverse accounts, e.g. {asso_velo: velo@mastodon.example}; "
             "others are written as plain @name with a link to their old profile.")
    mention_links: bool = option(
        "boolean", default=True,
        help="Add the old profile links of mentioned people who are not in 'accounts'.")
    media_timeout: float = option(
        "number", default=60,
        help="Seconds to wait for the server to process each picture or video.")
    spacing: str | None = option(
        help="Schedule the posts instead of publishing them at once, one every this "
             "long (e.g. 30m, 2h), so an import does not flood followers' timelines.")
    backdate: bool = option(
        "boolean", default=False,
        help="Give each post its original date. Only on servers that can (GoToSocial "
             "0.18 and later); Mastodon cannot, and the step is refused there.")
