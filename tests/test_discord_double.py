"""The Discord double against the real discord.py client (a small bot defined here, not the
product bot): login, command sync, interactions, validation, rate limits and resume."""

from __future__ import annotations

import io

import aiohttp
import discord
import pytest
from discord import app_commands

from tests.discord_double import (
    MANAGER_PERMISSIONS,
    CallbackType,
    DiscordDouble,
    Failure,
    MessageRecord,
    patched_discord,
    validate,
)

NO_MENTIONS = discord.AllowedMentions.none()


class PanelView(discord.ui.View):
    """One button that turns the message it is on into "Page 2"."""

    @discord.ui.button(label="Next", custom_id="panel:next")
    async def next_page(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:  # type: ignore[type-arg]
        await interaction.response.edit_message(content="Page 2", view=None)


class NoteModal(discord.ui.Modal, title="Add a note"):
    note: discord.ui.TextInput = discord.ui.TextInput(label="Note", custom_id="note:text")  # type: ignore[type-arg]

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"noted: {self.note.value}", ephemeral=True)


class SmallBot(discord.Client):
    """A client with a few commands, synced to ``guild_id`` (global when None)."""

    def __init__(self, guild_id: int | None = None, **options: object) -> None:
        super().__init__(intents=discord.Intents.default(), allowed_mentions=NO_MENTIONS, **options)  # type: ignore[arg-type]
        self.tree = app_commands.CommandTree(self)
        self.guild_id = guild_id
        self.errors: list[BaseException] = []
        tree = self.tree

        @tree.command(description="Say something back")
        @app_commands.describe(text="What to say")
        async def echo(interaction: discord.Interaction, text: str) -> None:
            await interaction.response.send_message(text)

        @tree.command(description="Think first, then answer")
        async def slow(interaction: discord.Interaction) -> None:
            await interaction.response.defer(thinking=True)
            await interaction.followup.send(embed=discord.Embed(title="Done", description="slowly"))

        @tree.command(description="Pick a topic")
        async def pick(interaction: discord.Interaction, topic: str) -> None:
            await interaction.response.send_message(f"picked {topic}", ephemeral=True)

        @pick.autocomplete("topic")
        async def pick_topics(
            interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[str]]:
            names = [f"{current}-{i}" for i in range(40)]
            return [app_commands.Choice(name=n, value=n) for n in names[:25]]

        @tree.command(description="A message with a button")
        async def panel(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("Page 1", view=PanelView())

        @tree.command(description="An embed longer than Discord allows")
        async def huge(interaction: discord.Interaction) -> None:
            await interaction.response.send_message(embed=discord.Embed(description="x" * 5000))

        @tree.command(description="The brief as a file")
        async def export(interaction: discord.Interaction) -> None:
            await interaction.response.defer()
            brief = discord.File(io.BytesIO(b"# Brief\n"), filename="brief.md")
            await interaction.edit_original_response(content="Brief ready", attachments=[brief])

        @tree.command(description="Ask for a note")
        async def note(interaction: discord.Interaction) -> None:
            await interaction.response.send_modal(NoteModal())

        admin = app_commands.Group(name="admin", description="Administration")
        feeds = app_commands.Group(name="feeds", description="Feeds", parent=admin)

        @feeds.command(name="add", description="Follow a feed")
        @app_commands.default_permissions(manage_guild=True)
        async def feeds_add(interaction: discord.Interaction, url: str, days: int = 7) -> None:
            allowed = interaction.permissions.manage_guild
            await interaction.response.send_message(f"{url} {days} {allowed}", ephemeral=True)

        tree.add_command(admin)

        @tree.error
        async def on_error(
            interaction: discord.Interaction, error: app_commands.AppCommandError
        ) -> None:
            self.errors.append(error)

    async def setup_hook(self) -> None:
        if self.guild_id is not None:
            guild = discord.Object(self.guild_id)
            self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)
        else:
            await self.tree.sync()


async def test_login_ready_and_guilds(discord_double: DiscordDouble) -> None:
    guild = discord_double.add_guild("Analysts")
    bot = SmallBot()
    async with discord_double.running(bot):
        assert bot.user is not None and bot.user.id == discord_double.application_id
        assert bot.application_id == discord_double.application_id
        cached = bot.get_guild(guild.id)
        assert cached is not None and cached.name == "Analysts"
        assert {c.name for c in cached.text_channels} == {"general", "briefs"}
        assert cached.owner_id == discord_double.owner_id
    assert discord_double.identify_count == 1 and discord_double.resume_count == 0
    paths = [r.path for r in discord_double.requests[:2]]
    assert paths == ["/users/@me", "/oauth2/applications/@me"]
    discord_double.assert_clean()


async def test_tree_sync_stores_commands(discord_double: DiscordDouble) -> None:
    guild = discord_double.add_guild()
    async with discord_double.running(SmallBot(guild.id)):
        pass
    assert discord_double.global_commands == []
    stored = {c["name"]: c for c in discord_double.commands(guild.id)}
    assert set(stored) == {"echo", "slow", "pick", "panel", "huge", "export", "note", "admin"}
    assert stored["echo"]["options"][0]["name"] == "text"
    assert stored["echo"]["options"][0]["required"] is True
    assert stored["pick"]["options"][0]["autocomplete"] is True
    group = stored["admin"]["options"][0]
    assert (group["name"], group["type"]) == ("feeds", 2)
    add = group["options"][0]
    assert (add["name"], add["type"]) == ("add", 1)
    assert [o["name"] for o in add["options"]] == ["url", "days"]
    # A GET after the PUT returns what was stored, ids and all.
    async with aiohttp.ClientSession() as http:
        app = discord_double.application_id
        url = f"{discord_double.api_url}/applications/{app}/guilds/{guild.id}/commands"
        async with http.get(url, headers={"Authorization": f"Bot {discord_double.token}"}) as resp:
            assert resp.headers["Content-Type"] == "application/json"
            assert [c["id"] for c in await resp.json()] == [c["id"] for c in stored.values()]


async def test_slash_command_gets_its_response(discord_double: DiscordDouble) -> None:
    guild = discord_double.add_guild()
    async with discord_double.running(SmallBot(guild.id)):
        ix = await discord_double.command("echo", {"text": "hello @everyone"})
        callback = await ix.wait_callback()
    assert callback.type == CallbackType.MESSAGE and callback.accepted
    assert callback.data is not None and callback.data["content"] == "hello @everyone"
    assert ix.latency is not None and ix.latency < 3.0
    assert ix.original is not None and ix.original.allows_no_mentions
    assert discord_double.channel_messages(guild.text_channel.id) == [ix.original]
    assert discord_double.pings() == []
    discord_double.assert_clean()


async def test_subcommand_group_with_member_permissions(discord_double: DiscordDouble) -> None:
    guild = discord_double.add_guild()
    async with discord_double.running(SmallBot(guild.id)):
        by_manager = await discord_double.command(
            "admin feeds add",
            {"url": "https://example.org/rss", "days": 3},
            user=guild.member("manager"),
        )
        by_analyst = await discord_double.command("admin feeds add", {"url": "u"})
        first = await by_manager.wait_callback()
        second = await by_analyst.wait_callback()
    assert first.data is not None and first.data["content"] == "https://example.org/rss 3 True"
    assert second.data is not None and second.data["content"] == "u 7 False"
    assert by_manager.original is not None and by_manager.original.ephemeral
    assert discord_double.channel_messages(guild.text_channel.id) == []  # ephemeral only
    assert int(by_manager.payload["member"]["permissions"]) == MANAGER_PERMISSIONS
    assert int(by_manager.payload["app_permissions"]) == discord_double.app_permissions


async def test_deferred_response_then_followup(discord_double: DiscordDouble) -> None:
    discord_double.add_guild()
    async with discord_double.running(SmallBot(discord_double.guilds[0].id)):
        ix = await discord_double.command("slow")
        first = await ix.wait_callback()
        (followup,) = await ix.wait_followups(1)
    assert first.type == CallbackType.DEFERRED_MESSAGE
    assert followup.embeds[0]["title"] == "Done"
    # Discord: the first followup after a deferral replaces the "thinking" message.
    assert followup is ix.original and not followup.flags & 128
    discord_double.assert_clean()


async def test_deferred_response_edited_with_a_file(discord_double: DiscordDouble) -> None:
    guild = discord_double.add_guild()
    async with discord_double.running(SmallBot(guild.id)):
        ix = await discord_double.command("export")
        (edit,) = await ix.wait_edits(1)
    assert ix.callback is not None and ix.callback.type == CallbackType.DEFERRED_MESSAGE
    assert edit["content"] == "Brief ready"
    assert [(f.filename, f.text) for f in ix.files] == [("brief.md", "# Brief\n")]
    assert ix.original is not None and ix.original.content == "Brief ready"
    assert ix.original.allows_no_mentions  # the client's AllowedMentions.none() default
    assert discord_double.channel_messages(guild.text_channel.id) == [ix.original]


async def test_autocomplete_returns_choices(discord_double: DiscordDouble) -> None:
    discord_double.add_guild()
    async with discord_double.running(SmallBot(discord_double.guilds[0].id)):
        ix = await discord_double.autocomplete("pick", {"topic": "sanc"}, focused="topic")
        callback = await ix.wait_callback()
    assert callback.type == CallbackType.AUTOCOMPLETE and callback.accepted
    assert len(callback.choices) == 25
    assert callback.choices[0] == {"name": "sanc-0", "value": "sanc-0"}


async def test_button_click_edits_the_message(discord_double: DiscordDouble) -> None:
    discord_double.add_guild()
    async with discord_double.running(SmallBot(discord_double.guilds[0].id)):
        ix = await discord_double.command("panel")
        await ix.wait_callback()
        message = ix.original
        assert isinstance(message, MessageRecord)
        assert message.custom_ids() == ["panel:next"]
        click = await discord_double.click(message, "panel:next")
        callback = await click.wait_callback()
    assert callback.type == CallbackType.UPDATE_MESSAGE and callback.accepted
    assert message.content == "Page 2" and message.components == []
    assert click.original is message and len(message.history) == 2
    discord_double.assert_clean()


async def test_modal_then_submit(discord_double: DiscordDouble) -> None:
    discord_double.add_guild()
    async with discord_double.running(SmallBot(discord_double.guilds[0].id)):
        ask = await discord_double.command("note")
        modal = await ask.wait_callback()
        submit = await discord_double.submit_modal(ask, {"note:text": "watch Rason port"})
        answer = await submit.wait_callback()
    assert modal.type == CallbackType.MODAL and modal.data is not None
    assert modal.data["title"] == "Add a note"
    assert answer.type == CallbackType.MESSAGE and answer.data is not None
    assert answer.data["content"] == "noted: watch Rason port"
    discord_double.assert_clean()


async def test_oversized_embed_is_refused_like_discord(discord_double: DiscordDouble) -> None:
    discord_double.add_guild()
    bot = SmallBot(discord_double.guilds[0].id)
    async with discord_double.running(bot):
        ix = await discord_double.command("huge")
        callback = await ix.wait_callback()
        await discord_double.wait_for(lambda: bot.errors, what="the bot's error handler")
    assert callback.status == 400 and not callback.accepted
    (violation,) = discord_double.violations
    assert (violation.status, violation.code, violation.message) == (
        400,
        50035,
        "Invalid Form Body",
    )
    errors = violation.errors["data"]["embeds"]["0"]["description"]["_errors"]
    assert errors[0]["code"] == "BASE_TYPE_MAX_LENGTH"
    assert ix.violations == [violation]
    # discord.py raised the HTTPException Discord would have caused.
    original = bot.errors[0].__cause__ or getattr(bot.errors[0], "original", None)
    assert isinstance(original, discord.HTTPException) and original.code == 50035
    with pytest.raises(AssertionError, match="50035"):
        discord_double.assert_clean()


async def test_rejected_token_raises_login_failure(discord_double: DiscordDouble) -> None:
    with pytest.raises(discord.LoginFailure):
        async with discord_double.running(SmallBot(), token="not-the-token"):
            pass
    assert [(r.path, r.status) for r in discord_double.requests] == [("/users/@me", 401)]
    assert discord_double.identify_count == 0


async def test_dropped_connection_resumes_and_replays(discord_double: DiscordDouble) -> None:
    discord_double.add_guild()
    bot = SmallBot(discord_double.guilds[0].id)
    async with discord_double.running(bot):
        await discord_double.drop_connection()
        # Dispatched while the client is away: replayed after its RESUME.
        missed = await discord_double.command("echo", {"text": "while away"})
        await discord_double.wait_for(lambda: discord_double.resume_count == 1, what="a RESUME")
        callback = await missed.wait_callback()
        after = await discord_double.command("echo", {"text": "after"})
        await after.wait_callback()
        assert bot.is_ready() and not bot.is_closed()
    assert discord_double.identify_count == 1
    assert callback.data is not None and callback.data["content"] == "while away"
    assert discord_double.gateway_urls[-1].startswith("/resume/")  # resume_gateway_url
    discord_double.assert_clean()


async def test_invalidated_session_identifies_again(discord_double: DiscordDouble) -> None:
    discord_double.add_guild()
    async with discord_double.running(SmallBot(discord_double.guilds[0].id)):
        await discord_double.invalidate_session()
        await discord_double.wait_for(lambda: discord_double.identify_count == 2, what="IDENTIFY")
        ix = await discord_double.command("echo", {"text": "again"})
        await ix.wait_callback()
    assert discord_double.resume_count == 0


async def test_rate_limited_message_is_retried_after_retry_after(
    discord_double: DiscordDouble,
) -> None:
    guild = discord_double.add_guild()
    bot = SmallBot()
    async with discord_double.running(bot):
        channel = bot.get_channel(guild.text_channel.id)
        assert isinstance(channel, discord.TextChannel)
        discord_double.fail_next("POST", "/channels/*/messages", Failure.rate_limited(0.05))
        sent = await channel.send("digest")
    posts = [r for r in discord_double.requests if r.method == "POST"]
    assert [r.status for r in posts] == [429, 200]
    assert posts[1].at - posts[0].at >= 0.045  # retried after retry_after, not before
    assert [m.content for m in discord_double.channel_messages(guild.text_channel.id)] == ["digest"]
    assert sent.id == discord_double.channel_messages(guild.text_channel.id)[0].id
    assert len(discord_double.injected) == 1


async def test_injected_forbidden_and_unknown_channel(discord_double: DiscordDouble) -> None:
    guild = discord_double.add_guild()
    bot = SmallBot()
    async with discord_double.running(bot):
        channel = bot.get_channel(guild.text_channel.id)
        assert isinstance(channel, discord.TextChannel)
        discord_double.fail_next("POST", "/channels/*/messages", Failure.missing_permissions())
        with pytest.raises(discord.Forbidden) as forbidden:
            await channel.send("x")
        discord_double.remove_channel(guild.text_channel)
        with pytest.raises(discord.NotFound) as gone:
            await channel.send("x")
        with pytest.raises(discord.NotFound):
            await bot.fetch_user(1234)  # a route the double does not serve
    assert forbidden.value.code == 50013 and gone.value.code == 10003
    assert [r.path for r in discord_double.unknown_requests] == ["/users/1234"]
    assert discord_double.violations == []


async def test_pings_follow_allowed_mentions(discord_double: DiscordDouble) -> None:
    guild = discord_double.add_guild()
    role = discord_double.add_role(guild, "Analysts")
    client = discord.Client(intents=discord.Intents.default())  # no allowed_mentions default
    async with discord_double.running(client):
        channel = client.get_channel(guild.text_channel.id)
        assert isinstance(channel, discord.TextChannel)
        text = f"@everyone see <@&{role.id}>"
        await channel.send(text, embed=discord.Embed(description="@here in an embed"))
        await channel.send(text, allowed_mentions=NO_MENTIONS)
    loud, quiet = discord_double.channel_messages(guild.text_channel.id)
    assert [(p.kind, p.target) for p in loud.pings()] == [("everyone", None), ("role", role.id)]
    assert not loud.allows_no_mentions and loud.allowed_mentions is None
    assert quiet.pings() == [] and quiet.allows_no_mentions
    with pytest.raises(AssertionError, match="ping"):
        discord_double.assert_clean()


async def test_webhook_execute_reaches_the_channel(discord_double: DiscordDouble) -> None:
    guild = discord_double.add_guild()
    channel = guild.channel("briefs")
    webhook = discord_double.add_webhook(channel)
    async with aiohttp.ClientSession() as http:
        hook = discord.Webhook.from_url(webhook.discord_url, session=http)
        sent = await hook.send(
            "daily digest",
            embed=discord.Embed(title="Digest"),
            file=discord.File(__file__, filename="digest.md"),
            allowed_mentions=NO_MENTIONS,
            wait=True,
        )
        async with http.post(f"{webhook.url}?wait=true", json={"content": "y" * 2001}) as resp:
            refused = await resp.json()
            status = resp.status
    (message,) = discord_double.webhook_messages(webhook.id)
    assert sent.id == message.id and message.channel_id == channel.id
    assert discord_double.channel_messages(channel.id) == [message]
    assert message.files[0].filename == "digest.md" and b"webhook" in message.files[0].content
    assert message.embeds[0]["title"] == "Digest"
    assert status == 400 and refused["code"] == 50035
    assert refused["errors"]["content"]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"


async def test_invalid_command_names_fail_the_sync(discord_double: DiscordDouble) -> None:
    discord_double.add_guild()
    bot = SmallBot()
    duplicate = {"name": "echo", "description": "again", "type": 1}
    upper = {"name": "Brief", "description": "x", "type": 1}
    async with discord_double.running(bot):
        with pytest.raises(discord.HTTPException) as failed:
            await bot.http.bulk_upsert_global_commands(
                discord_double.application_id,
                [*[c for c in discord_double.global_commands], duplicate, upper],
            )
    assert failed.value.status == 400 and failed.value.code == 50035
    errors = discord_double.violations[-1].errors
    n = len(discord_double.global_commands)
    assert errors[str(n)]["name"]["_errors"][0]["code"] == "APPLICATION_COMMANDS_DUPLICATE_NAME"
    assert errors[str(n + 1)]["name"]["_errors"][0]["code"] == "APPLICATION_COMMAND_INVALID_NAME"


async def test_late_and_double_acknowledgements_are_refused(discord_double: DiscordDouble) -> None:
    discord_double.add_guild()
    discord_double.interaction_deadline = 0.0  # every callback is "late"
    async with discord_double.running(SmallBot(discord_double.guilds[0].id)):
        ix = await discord_double.command("echo", {"text": "late"})
        callback = await ix.wait_callback()
    assert callback.status == 404
    assert [v.code for v in discord_double.violations] == [10062]


async def test_auto_sharded_client_gets_its_guilds() -> None:
    async with DiscordDouble(shard_count=2) as double:
        guilds = [double.add_guild(f"g{i}") for i in range(4)]
        with patched_discord(double):
            bot = discord.AutoShardedClient(intents=discord.Intents.default())
            async with double.running(bot):
                assert bot.shard_count == 2
                assert {g.id for g in bot.guilds} == {g.id for g in guilds}
    assert double.identify_count == 2
    assert sorted(p["shard"][0] for p in double.identify_payloads) == [0, 1]


def _embed(**fields: object) -> dict[str, object]:
    return {"type": "rich", **fields}


def _field(name: str = "n", value: str = "v") -> dict[str, str]:
    return {"name": name, "value": value}


def _row(n: int, row: int = 0) -> dict[str, object]:
    buttons = [{"type": 2, "style": 1, "custom_id": f"b{row}.{i}", "label": "x"} for i in range(n)]
    return {"type": 1, "components": buttons}


# (payload at Discord's limit, payload one past it, the path of the error)
MESSAGE_LIMITS = [
    ({"content": "c" * 2000}, {"content": "c" * 2001}, ("content",)),
    ({"embeds": [_embed()] * 10}, {"embeds": [_embed()] * 11}, ("embeds",)),
    (
        {"embeds": [_embed(title="t" * 256)]},
        {"embeds": [_embed(title="t" * 257)]},
        ("embeds", "0", "title"),
    ),
    (
        {"embeds": [_embed(description="d" * 4096)]},
        {"embeds": [_embed(description="d" * 4097)]},
        ("embeds", "0", "description"),
    ),
    (
        {"embeds": [_embed(fields=[_field()] * 25)]},
        {"embeds": [_embed(fields=[_field()] * 26)]},
        ("embeds", "0", "fields"),
    ),
    (
        {"embeds": [_embed(fields=[_field(name="n" * 256)])]},
        {"embeds": [_embed(fields=[_field(name="n" * 257)])]},
        ("embeds", "0", "fields", "0", "name"),
    ),
    (
        {"embeds": [_embed(fields=[_field(value="v" * 1024)])]},
        {"embeds": [_embed(fields=[_field(value="v" * 1025)])]},
        ("embeds", "0", "fields", "0", "value"),
    ),
    (
        {"embeds": [_embed(footer={"text": "f" * 2048})]},
        {"embeds": [_embed(footer={"text": "f" * 2049})]},
        ("embeds", "0", "footer", "text"),
    ),
    (
        {"embeds": [_embed(author={"name": "a" * 256})]},
        {"embeds": [_embed(author={"name": "a" * 257})]},
        ("embeds", "0", "author", "name"),
    ),
    (
        {"embeds": [_embed(description="d" * 3000), _embed(description="d" * 3000)]},
        {"embeds": [_embed(description="d" * 3000), _embed(description="d" * 3001)]},
        ("embeds",),
    ),
    (
        {"components": [_row(1, r) for r in range(5)]},
        {"components": [_row(1, r) for r in range(6)]},
        ("components",),
    ),
    ({"components": [_row(5)]}, {"components": [_row(6)]}, ("components", "0", "components")),
    (
        {
            "components": [
                {"type": 1, "components": [{"type": 2, "style": 1, "custom_id": "i" * 100}]}
            ]
        },
        {
            "components": [
                {"type": 1, "components": [{"type": 2, "style": 1, "custom_id": "i" * 101}]}
            ]
        },
        ("components", "0", "components", "0", "custom_id"),
    ),
    (
        {"content": "x", "allowed_mentions": {"parse": []}},
        {"content": "x", "allowed_mentions": {"parse": ["users"], "users": ["1"]}},
        ("allowed_mentions", "parse"),
    ),
]


@pytest.mark.parametrize(("at_limit", "over", "path"), MESSAGE_LIMITS)
def test_message_limits(
    at_limit: dict[str, object], over: dict[str, object], path: tuple[str, ...]
) -> None:
    assert not validate.check_message(at_limit)
    node = validate.check_message(over).tree
    for key in path:
        node = node[key]
    assert node["_errors"], node


def _command(
    name: str = "brief", description: str = "d", options: list[dict[str, object]] | None = None
) -> dict[str, object]:
    return {"type": 1, "name": name, "description": description, "options": options or []}


def _option(name: str = "o", required: bool = False, **extra: object) -> dict[str, object]:
    return {"type": 3, "name": name, "description": "d", "required": required, **extra}


COMMAND_LIMITS = [
    ([_command("b" * 32)], [_command("b" * 33)], ("0", "name")),
    ([_command("feeds-add_2")], [_command("Brief")], ("0", "name")),
    ([_command("brief")], [_command("brief now")], ("0", "name")),
    ([_command(description="d" * 100)], [_command(description="d" * 101)], ("0", "description")),
    ([_command(description="d")], [_command(description="")], ("0", "description")),
    (
        [_command(options=[_option(f"o{i}") for i in range(25)])],
        [_command(options=[_option(f"o{i}") for i in range(26)])],
        ("0", "options"),
    ),
    ([_command(f"c{i}") for i in range(100)], [_command(f"c{i}") for i in range(101)], ()),
    ([_command("a"), _command("b")], [_command("a"), _command("a")], ("1", "name")),
    (
        [_command(options=[_option("a"), _option("b")])],
        [_command(options=[_option("a"), _option("a")])],
        ("0", "options", "1", "name"),
    ),
    (
        [_command(options=[_option("a", True), _option("b")])],
        [_command(options=[_option("a"), _option("b", True)])],
        ("0", "options", "1", "required"),
    ),
    (
        [_command(options=[_option(choices=[{"name": "n", "value": "v"}] * 25)])],
        [_command(options=[_option(choices=[{"name": "n", "value": "v"}] * 26)])],
        ("0", "options", "0", "choices"),
    ),
]


@pytest.mark.parametrize(("at_limit", "over", "path"), COMMAND_LIMITS)
def test_command_limits(at_limit: list[object], over: list[object], path: tuple[str, ...]) -> None:
    assert not validate.check_commands(at_limit)
    node = validate.check_commands(over).tree
    for key in path:
        node = node[key]
    assert node["_errors"], node


def test_autocomplete_limits() -> None:
    choices = [{"name": "n" * 100, "value": "v" * 100}] * 25
    assert not validate.check_choices({"choices": choices})
    assert validate.check_choices({"choices": [*choices, choices[0]]}).tree["data"]["choices"][
        "_errors"
    ]
    long_name = validate.check_choices({"choices": [{"name": "n" * 101, "value": "v"}]}).tree
    assert long_name["data"]["choices"]["0"]["name"]["_errors"]
    long_value = validate.check_choices({"choices": [{"name": "n", "value": "v" * 101}]}).tree
    assert long_value["data"]["choices"]["0"]["value"]["_errors"]
