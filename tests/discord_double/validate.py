"""Discord's documented limits, checked the way Discord checks them.

Each check returns the nested ``errors`` object of a Discord 50035 "Invalid Form Body" answer
(``{"embeds": {"0": {"title": {"_errors": [{"code": ..., "message": ...}]}}}}``), empty when
the payload is valid, so the double can answer exactly what the bot would get in production.
"""

from __future__ import annotations

from typing import Any

JSON = dict[str, Any]

CONTENT_MAX = 2000
EMBEDS_MAX = 10
EMBED_TITLE_MAX = 256
EMBED_DESCRIPTION_MAX = 4096
EMBED_FIELDS_MAX = 25
EMBED_FIELD_NAME_MAX = 256
EMBED_FIELD_VALUE_MAX = 1024
EMBED_FOOTER_MAX = 2048
EMBED_AUTHOR_MAX = 256
EMBED_TOTAL_MAX = 6000
FILES_MAX = 10
ACTION_ROWS_MAX = 5
ROW_BUTTONS_MAX = 5
CUSTOM_ID_MAX = 100
BUTTON_LABEL_MAX = 80
SELECT_OPTIONS_MAX = 25
COMPONENTS_V2_MAX = 40
CHOICES_MAX = 25
CHOICE_MAX = 100
COMMANDS_MAX = 100
COMMAND_NAME_MAX = 32
COMMAND_DESCRIPTION_MAX = 100
COMMAND_OPTIONS_MAX = 25
COMMAND_TOTAL_MAX = 8000
MODAL_TITLE_MAX = 45
FLAG_COMPONENTS_V2 = 1 << 15
ALLOWED_PARSE = {"everyone", "users", "roles"}


class Errors:
    """Discord's nested error object, built by path."""

    def __init__(self) -> None:
        self.tree: JSON = {}

    def add(self, path: tuple[str | int, ...], code: str, message: str) -> None:
        node = self.tree
        for key in path:
            node = node.setdefault(str(key), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def max_length(self, path: tuple[str | int, ...], value: Any, limit: int) -> None:
        if isinstance(value, str | list) and len(value) > limit:
            self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")

    def length_between(self, path: tuple[str | int, ...], value: Any, low: int, high: int) -> None:
        if value is None or (isinstance(value, str) and not value and low > 0):
            self.add(path, "BASE_TYPE_REQUIRED", "This field is required")
        elif not isinstance(value, str):
            self.add(path, "STRING_TYPE_CONVERT", "Could not interpret value as string.")
        elif not low <= len(value) <= high:
            self.add(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")

    def __bool__(self) -> bool:
        return bool(self.tree)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def embed_size(embed: JSON) -> int:
    """Characters Discord counts towards the 6,000 of a message's embeds."""
    size = len(_text(embed.get("title"))) + len(_text(embed.get("description")))
    size += len(_text((embed.get("footer") or {}).get("text")))
    size += len(_text((embed.get("author") or {}).get("name")))
    for f in embed.get("fields") or []:
        if isinstance(f, dict):
            size += len(_text(f.get("name"))) + len(_text(f.get("value")))
    return size


def check_embeds(embeds: Any, errors: Errors, prefix: tuple[str | int, ...] = ()) -> None:
    if embeds is None:
        return
    if not isinstance(embeds, list):
        errors.add(
            (*prefix, "embeds"), "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType."
        )
        return
    errors.max_length((*prefix, "embeds"), embeds, EMBEDS_MAX)
    total = 0
    for i, embed in enumerate(embeds):
        at = (*prefix, "embeds", i)
        if not isinstance(embed, dict):
            errors.add(at, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
            continue
        total += embed_size(embed)
        errors.max_length((*at, "title"), embed.get("title"), EMBED_TITLE_MAX)
        errors.max_length((*at, "description"), embed.get("description"), EMBED_DESCRIPTION_MAX)
        footer = embed.get("footer")
        if isinstance(footer, dict):
            errors.max_length((*at, "footer", "text"), footer.get("text"), EMBED_FOOTER_MAX)
        author = embed.get("author")
        if isinstance(author, dict):
            errors.length_between((*at, "author", "name"), author.get("name"), 1, EMBED_AUTHOR_MAX)
        color = embed.get("color")
        if color is not None and (not isinstance(color, int) or not 0 <= color <= 0xFFFFFF):
            errors.add((*at, "color"), "NUMBER_TYPE_MAX", "int value should be <= 16777215.")
        fields = embed.get("fields") or []
        errors.max_length((*at, "fields"), fields, EMBED_FIELDS_MAX)
        for j, f in enumerate(fields):
            if not isinstance(f, dict):
                continue
            errors.length_between(
                (*at, "fields", j, "name"), f.get("name"), 1, EMBED_FIELD_NAME_MAX
            )
            errors.length_between(
                (*at, "fields", j, "value"), f.get("value"), 1, EMBED_FIELD_VALUE_MAX
            )
    if total > EMBED_TOTAL_MAX:
        errors.add(
            (*prefix, "embeds"),
            "MAX_EMBED_SIZE_EXCEEDED",
            f"Embed size exceeds maximum size of {EMBED_TOTAL_MAX}",
        )


def _walk_custom_ids(
    items: Any, found: list[tuple[tuple[str | int, ...], Any]], at: tuple[str | int, ...]
) -> int:
    """Collect custom ids with their paths; return how many components there are."""
    count = 0
    for i, item in enumerate(items if isinstance(items, list) else []):
        if not isinstance(item, dict):
            continue
        count += 1
        here = (*at, i)
        if "custom_id" in item:
            found.append(((*here, "custom_id"), item["custom_id"]))
        count += _walk_custom_ids(item.get("components"), found, (*here, "components"))
        if isinstance(item.get("accessory"), dict):
            count += _walk_custom_ids([item["accessory"]], found, (*here, "accessory"))
    return count


def check_components(
    components: Any, errors: Errors, flags: int = 0, prefix: tuple[str | int, ...] = ()
) -> None:
    if components is None:
        return
    at = (*prefix, "components")
    if not isinstance(components, list):
        errors.add(at, "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType.")
        return
    ids: list[tuple[tuple[str | int, ...], Any]] = []
    total = _walk_custom_ids(components, ids, at)
    seen: set[Any] = set()
    for path, custom_id in ids:
        errors.length_between(path, custom_id, 1, CUSTOM_ID_MAX)
        if custom_id in seen:
            errors.add(
                path, "COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated"
            )
        seen.add(custom_id)
    if flags & FLAG_COMPONENTS_V2:
        if total > COMPONENTS_V2_MAX:
            errors.add(
                at, "BASE_TYPE_MAX_LENGTH", f"Must be {COMPONENTS_V2_MAX} or fewer in length."
            )
        return
    errors.max_length(at, components, ACTION_ROWS_MAX)
    for i, row in enumerate(components):
        if not isinstance(row, dict):
            continue
        if row.get("type") != 1:
            errors.add(
                (*at, i, "type"), "UNION_TYPE_CHOICES", 'Value of field "type" must be one of (1,).'
            )
            continue
        children = row.get("components") or []
        if not children:
            errors.add(
                (*at, i, "components"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length."
            )
        errors.max_length((*at, i, "components"), children, ROW_BUTTONS_MAX)
        selects = [c for c in children if isinstance(c, dict) and c.get("type") in (3, 5, 6, 7, 8)]
        if selects and len(children) > 1:
            errors.add(
                (*at, i, "components"),
                "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                "The specified component exceeds the maximum width",
            )
        for j, child in enumerate(children):
            if not isinstance(child, dict):
                continue
            here = (*at, i, "components", j)
            if child.get("type") == 2:
                errors.max_length((*here, "label"), child.get("label"), BUTTON_LABEL_MAX)
                if child.get("style") == 5:
                    if not child.get("url"):
                        errors.add((*here, "url"), "BASE_TYPE_REQUIRED", "This field is required")
                elif child.get("style") != 6 and "custom_id" not in child:
                    errors.add((*here, "custom_id"), "BASE_TYPE_REQUIRED", "This field is required")
            elif child.get("type") == 3:
                options = child.get("options") or []
                if not 1 <= len(options) <= SELECT_OPTIONS_MAX:
                    errors.add(
                        (*here, "options"),
                        "BASE_TYPE_BAD_LENGTH",
                        "Must be between 1 and 25 in length.",
                    )
                for k, option in enumerate(options):
                    if isinstance(option, dict):
                        for key in ("label", "value"):
                            errors.length_between(
                                (*here, "options", k, key), option.get(key), 1, 100
                            )
                        errors.max_length(
                            (*here, "options", k, "description"), option.get("description"), 100
                        )


def check_allowed_mentions(
    allowed: Any, errors: Errors, prefix: tuple[str | int, ...] = ()
) -> None:
    if allowed is None:
        return
    at = (*prefix, "allowed_mentions")
    if not isinstance(allowed, dict):
        errors.add(at, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
        return
    parse = allowed.get("parse") or []
    for i, kind in enumerate(parse):
        if kind not in ALLOWED_PARSE:
            errors.add(
                (*at, "parse", i),
                "BASE_TYPE_CHOICES",
                f"Value must be one of {sorted(ALLOWED_PARSE)}.",
            )
    for kind in ("users", "roles"):
        if kind in parse and allowed.get(kind):
            errors.add(
                (*at, "parse"),
                "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                f'parse:["{kind}"] and {kind}: [ids...] are mutually exclusive.',
            )
        errors.max_length((*at, kind), allowed.get(kind), 100)


def check_message(payload: Any, *, files: int = 0, prefix: tuple[str | int, ...] = ()) -> Errors:
    """Errors of a message payload (create or edit): content, embeds, components, mentions,
    attachments."""
    errors = Errors()
    if not isinstance(payload, dict):
        errors.add(prefix, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
        return errors
    content = payload.get("content")
    if content is not None and not isinstance(content, str):
        errors.add(
            (*prefix, "content"), "STRING_TYPE_CONVERT", "Could not interpret value as string."
        )
    errors.max_length((*prefix, "content"), content, CONTENT_MAX)
    check_embeds(payload.get("embeds"), errors, prefix)
    flags = payload.get("flags") or 0
    check_components(
        payload.get("components"), errors, flags if isinstance(flags, int) else 0, prefix
    )
    if flags and isinstance(flags, int) and flags & FLAG_COMPONENTS_V2:
        for key in ("content", "embeds"):
            if payload.get(key):
                errors.add(
                    (*prefix, key),
                    "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
                    "The 'content' and 'embeds' fields cannot be used when using "
                    "MessageFlags.IS_COMPONENTS_V2",
                )
    check_allowed_mentions(payload.get("allowed_mentions"), errors, prefix)
    attachments = payload.get("attachments")
    count = max(files, len(attachments) if isinstance(attachments, list) else 0)
    if count > FILES_MAX:
        errors.add(
            (*prefix, "attachments"),
            "BASE_TYPE_MAX_LENGTH",
            f"Must be {FILES_MAX} or fewer in length.",
        )
    return errors


def is_empty_message(payload: JSON, files: int) -> bool:
    """Discord refuses to create a message with nothing to show (code 50006)."""
    return not (
        payload.get("content")
        or payload.get("embeds")
        or payload.get("components")
        or payload.get("sticker_ids")
        or payload.get("poll")
        or files
    )


def check_choices(data: Any) -> Errors:
    """Errors of an autocomplete result (callback type 8), under ``data``."""
    errors = Errors()
    choices = (data or {}).get("choices") if isinstance(data, dict) else None
    if not isinstance(choices, list):
        errors.add(("data", "choices"), "BASE_TYPE_REQUIRED", "This field is required")
        return errors
    errors.max_length(("data", "choices"), choices, CHOICES_MAX)
    for i, choice in enumerate(choices):
        if not isinstance(choice, dict):
            continue
        errors.length_between(("data", "choices", i, "name"), choice.get("name"), 1, CHOICE_MAX)
        value = choice.get("value")
        if isinstance(value, str):
            errors.max_length(("data", "choices", i, "value"), value, CHOICE_MAX)
        elif not isinstance(value, int | float) or isinstance(value, bool):
            errors.add(
                ("data", "choices", i, "value"), "BASE_TYPE_REQUIRED", "This field is required"
            )
    return errors


def check_modal(data: Any) -> Errors:
    """Errors of a modal (callback type 9), under ``data``."""
    errors = Errors()
    if not isinstance(data, dict):
        errors.add(("data",), "BASE_TYPE_REQUIRED", "This field is required")
        return errors
    errors.length_between(("data", "title"), data.get("title"), 1, MODAL_TITLE_MAX)
    errors.length_between(("data", "custom_id"), data.get("custom_id"), 1, CUSTOM_ID_MAX)
    components = data.get("components") or []
    if not 1 <= len(components) <= 5:
        errors.add(
            ("data", "components"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length."
        )
    ids: list[tuple[tuple[str | int, ...], Any]] = []
    _walk_custom_ids(components, ids, ("data", "components"))
    for path, custom_id in ids:
        errors.length_between(path, custom_id, 1, CUSTOM_ID_MAX)
    return errors


def _valid_name(name: Any, chat_input: bool) -> bool:
    if not isinstance(name, str) or not 1 <= len(name) <= COMMAND_NAME_MAX:
        return False
    if not chat_input:
        return bool(name.strip())
    return name == name.lower() and all(ch in "-_" or ch.isalnum() for ch in name)


def _command_chars(command: JSON) -> int:
    """Characters Discord counts towards a command's 8,000 (names, descriptions, choices)."""
    size = len(_text(command.get("name"))) + len(_text(command.get("description")))
    for option in command.get("options") or []:
        if isinstance(option, dict):
            size += _command_chars(option)
            for choice in option.get("choices") or []:
                if isinstance(choice, dict):
                    size += len(_text(choice.get("name"))) + len(str(choice.get("value", "")))
    return size


def _check_options(options: Any, errors: Errors, at: tuple[str | int, ...], depth: int) -> None:
    if options is None:
        return
    if not isinstance(options, list):
        errors.add(at, "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType.")
        return
    errors.max_length(at, options, COMMAND_OPTIONS_MAX)
    names: set[str] = set()
    seen_optional = False
    kinds = {o.get("type") for o in options if isinstance(o, dict)}
    if kinds & {1, 2} and kinds - {1, 2}:
        errors.add(
            at,
            "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
            "Sub-command and sub-command group option types are mutually exclusive to all "
            "other types",
        )
    for i, option in enumerate(options):
        here = (*at, i)
        if not isinstance(option, dict):
            errors.add(here, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
            continue
        kind = option.get("type")
        name = option.get("name")
        if not _valid_name(name, True):
            errors.add(
                (*here, "name"),
                "APPLICATION_COMMAND_INVALID_NAME",
                f"Command name is invalid: {name!r}",
            )
        elif name in names:
            errors.add(
                (*here, "name"),
                "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
                "Option names must be unique",
            )
        names.add(str(name))
        errors.length_between(
            (*here, "description"), option.get("description"), 1, COMMAND_DESCRIPTION_MAX
        )
        if not isinstance(kind, int) or not 1 <= kind <= 11:
            errors.add((*here, "type"), "BASE_TYPE_CHOICES", "Value must be one of 1..11.")
            continue
        if kind == 2 and depth > 0:
            errors.add(
                (*here, "type"),
                "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                "Groups cannot be nested",
            )
        if kind == 1 and depth > 1:
            errors.add(
                (*here, "type"),
                "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                "Sub-commands nest too deep",
            )
        if kind in (1, 2):
            sub = option.get("options")
            if kind == 2 and any(isinstance(o, dict) and o.get("type") != 1 for o in sub or []):
                errors.add(
                    (*here, "options"),
                    "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                    "A sub-command group may only hold sub-commands",
                )
            _check_options(sub, errors, (*here, "options"), depth + 1)
            continue
        if option.get("required"):
            if seen_optional:
                errors.add(
                    (*here, "required"),
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            seen_optional = True
        choices = option.get("choices")
        if choices:
            if option.get("autocomplete"):
                errors.add(
                    (*here, "autocomplete"),
                    "APPLICATION_COMMAND_OPTION_CHOICES_AUTOCOMPLETE",
                    "Autocomplete cannot be set with choices",
                )
            errors.max_length((*here, "choices"), choices, CHOICES_MAX)
            for j, choice in enumerate(choices):
                if isinstance(choice, dict):
                    errors.length_between(
                        (*here, "choices", j, "name"), choice.get("name"), 1, CHOICE_MAX
                    )
                    if isinstance(choice.get("value"), str):
                        errors.max_length(
                            (*here, "choices", j, "value"), choice["value"], CHOICE_MAX
                        )
        low, high = option.get("min_value"), option.get("max_value")
        if isinstance(low, int | float) and isinstance(high, int | float) and low > high:
            errors.add((*here, "min_value"), "NUMBER_TYPE_MAX", "min_value must be <= max_value")
        for key in ("min_length", "max_length"):
            value = option.get(key)
            if value is not None and (not isinstance(value, int) or not 0 <= value <= 6000):
                errors.add((*here, key), "NUMBER_TYPE_MAX", "Must be between 0 and 6000.")


def check_commands(commands: Any) -> Errors:
    """Errors of a bulk overwrite of application commands (``PUT .../commands``)."""
    errors = Errors()
    if not isinstance(commands, list):
        errors.add((), "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType.")
        return errors
    if len(commands) > COMMANDS_MAX:
        errors.add((), "BASE_TYPE_MAX_LENGTH", f"Must be {COMMANDS_MAX} or fewer in length.")
    seen: set[tuple[Any, str]] = set()
    for i, command in enumerate(commands):
        if not isinstance(command, dict):
            errors.add((i,), "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
            continue
        kind = command.get("type", 1)
        chat_input = kind == 1
        name = command.get("name")
        if not _valid_name(name, chat_input):
            errors.add(
                (i, "name"),
                "APPLICATION_COMMAND_INVALID_NAME",
                f"Command name is invalid: {name!r}",
            )
        key = (kind, str(name))
        if key in seen:
            errors.add(
                (i, "name"),
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                f"Application command names must be unique: {name!r}",
            )
        seen.add(key)
        description = command.get("description", "")
        if chat_input:
            errors.length_between((i, "description"), description, 1, COMMAND_DESCRIPTION_MAX)
        elif description:
            errors.add(
                (i, "description"),
                "BASE_TYPE_MAX_LENGTH",
                "Context menu commands have no description.",
            )
        for loc_key, limit in (
            ("name_localizations", COMMAND_NAME_MAX),
            ("description_localizations", 100),
        ):
            for locale, text in (command.get(loc_key) or {}).items():
                errors.max_length((i, loc_key, locale), text, limit)
        permissions = command.get("default_member_permissions")
        # Discord documents a string of digits and accepts a JSON integer too (discord.py
        # sends one).
        as_int = isinstance(permissions, int) and not isinstance(permissions, bool)
        if permissions is not None and not (
            (as_int and permissions >= 0)
            or (isinstance(permissions, str) and permissions.isdigit())
        ):
            errors.add(
                (i, "default_member_permissions"),
                "STRING_TYPE_CONVERT",
                "Must be a string of digits.",
            )
        if chat_input:
            _check_options(command.get("options"), errors, (i, "options"), 0)
            if _command_chars(command) > COMMAND_TOTAL_MAX:
                errors.add(
                    (i,),
                    "APPLICATION_COMMAND_TOO_LARGE",
                    f"Command exceeds maximum size ({COMMAND_TOTAL_MAX})",
                )
    return errors
