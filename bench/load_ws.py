"""A load-test session that speaks Streamlit's own browser protocol over its websocket.

A browser tab running a Streamlit app does four things on the wire, all on `/_stcore/stream`
(binary protobuf frames, subprotocol `streamlit`): it opens the socket, sends a `BackMsg` whose
`rerun_script` carries the page (`page_name` from the URL path, or a `page_script_hash` once known),
the URL query string and the state of every widget on screen; it then receives `ForwardMsg`s — a
`new_session` per script run, `delta`s (elements, including `exception` elements), `page_info_changed`
when the app rewrites the query string, `navigation`, and `script_finished` — and, when the user
changes a filter, sends the same `rerun_script` with that widget's new value. `ProtocolSession` does
exactly that without rendering anything, so thirty of them cost the client a fraction of one core
where thirty Chromium tabs saturate two (see `bench/load.py`).

Widget values are encoded the way the frontend encodes them (read from `streamlit/elements/widgets`):
selectbox and radio send the formatted option (`string_value`), multiselect and select_slider the
formatted options (`string_array_value`), slider its values (`double_array_value`), number_input a
`double_value`, checkbox and toggle a `bool_value`. A widget first seen takes its default; a value the
server pushes (`set_value`) replaces the client's; widgets no longer on screen are dropped — as the
frontend's widget state manager does. Like the frontend's message cache, a session keeps the large
messages the server marks `cacheable` for `max_cached_message_age` runs and lists their hashes in
`cached_message_hashes`, so the server answers with a `ref_hash` instead of resending them.

Loopback only: a session refuses any host outside 127.0.0.0/8, localhost and ::1.
"""

from __future__ import annotations

import asyncio
import ipaddress
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

DEFAULT_TIMEOUT = 60.0
SIDEBAR_KEYS = ("dep", "epci")  # the shared territory selector (ui/state.py)
WIDGET_KINDS = ("selectbox", "radio", "multiselect", "slider", "number_input", "checkbox")
ENDED = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_WITH_COMPILE_ERROR,
         ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY}


class ProtocolTimeout(Exception):
    """The server did not finish a run within the session's timeout."""


class ProtocolClosed(Exception):
    """The server closed the websocket in the middle of a run."""


def require_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise ValueError(f"load sessions target loopback addresses only, not {host!r}")


@dataclass
class Widget:
    id: str
    kind: str
    proto: object  # the element's protobuf (Selectbox, Radio, …)

    @property
    def key(self) -> str:
        """The user key Streamlit appends to keyed widget ids (`$$ID-<hash>-<key>`)."""
        return self.id.split("-", 2)[2] if self.id.startswith("$$ID-") and self.id.count("-") >= 2 else ""


@dataclass
class RunResult:
    """One interaction: a rerun request until the script run (or chain of runs) finished."""
    action: str
    seconds: float
    status: str
    exceptions: list[str] = field(default_factory=list)
    messages: int = 0
    bytes: int = 0


def initial_state(widget: Widget) -> WidgetState | None:
    """The value the frontend registers for a widget it mounts (its default, or the value the
    server pushes with `set_value`); None where the frontend registers nothing (no default)."""
    p, state = widget.proto, WidgetState(id=widget.id)
    if widget.kind in ("selectbox", "radio"):
        if p.set_value and p.HasField("raw_value"):
            state.string_value = p.raw_value
        elif p.HasField("default") and 0 <= p.default < len(p.options):
            state.string_value = p.options[p.default]
        else:
            return None
    elif widget.kind == "multiselect":
        values = list(p.raw_values) if p.set_value else [p.options[i] for i in p.default if i < len(p.options)]
        state.string_array_value.data[:] = values
    elif widget.kind == "slider" and p.type == p.SELECT_SLIDER:
        values = list(p.raw_value) if p.set_value else [p.options[int(i)] for i in p.default]
        state.string_array_value.data[:] = values
    elif widget.kind == "slider":
        state.double_array_value.data[:] = list(p.value) if p.set_value else list(p.default)
    elif widget.kind == "number_input":
        if p.set_value and p.HasField("value"):
            state.double_value = p.value
        elif p.HasField("default"):
            state.double_value = p.default
        else:
            return None
    elif widget.kind == "checkbox":
        state.bool_value = p.value if p.set_value else p.default
    else:
        return None
    return state


def _grid(rng: random.Random, low: float, high: float, step: float, integer: bool) -> float:
    step = step or (1.0 if integer else (high - low) / 20 or 1.0)
    value = low + rng.randrange(int((high - low) / step) + 1) * step
    return float(round(value)) if integer else round(value, 10)


def changed_state(widget: Widget, current: WidgetState | None, rng: random.Random) -> WidgetState | None:
    """A new value a user could pick for this widget (different from the current one when the
    widget offers a choice); None for a widget that offers none."""
    p, state = widget.proto, WidgetState(id=widget.id)
    if widget.kind in ("selectbox", "radio"):
        now = current.string_value if current is not None else None
        choices = [o for o in p.options if o != now]
        if not choices:
            return None
        state.string_value = rng.choice(choices)
    elif widget.kind == "multiselect":
        if not p.options:
            return None
        limit = p.max_selections or len(p.options)
        state.string_array_value.data[:] = rng.sample(list(p.options), rng.randint(1, min(limit, len(p.options))))
    elif widget.kind == "slider" and p.type == p.SELECT_SLIDER:
        count = len(p.default) or 1
        if len(p.options) < count:
            return None
        picked = sorted(rng.sample(range(len(p.options)), count))
        state.string_array_value.data[:] = [p.options[i] for i in picked]
    elif widget.kind == "slider":
        if p.max <= p.min:
            return None
        integer = p.data_type != p.FLOAT
        values = sorted(_grid(rng, p.min, p.max, p.step, integer) for _ in range(len(p.default) or 1))
        state.double_array_value.data[:] = values
    elif widget.kind == "number_input":
        default = p.default if p.HasField("default") else 0.0
        low = p.min if p.has_min else min(0.0, default)
        high = p.max if p.has_max else max(2 * abs(default), low + 10 * (p.step or 1.0))
        state.double_value = _grid(rng, low, high, p.step, p.data_type == p.INT)
    elif widget.kind == "checkbox":
        state.bool_value = not (current.bool_value if current is not None else p.default)
    else:
        return None
    return state


class ProtocolSession:
    """One simulated browser tab: a websocket session of the app at `base_url` (loopback)."""

    def __init__(self, base_url: str, timeout: float = DEFAULT_TIMEOUT):
        require_loopback(base_url)
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.ws = None
        self.pages: dict[str, str] = {}  # url path → page_script_hash, from `navigation`
        self.page_hash = ""
        self.page_path = ""
        self.query_string = ""
        self.widgets: dict[str, Widget] = {}  # on screen after the last run
        self.states: dict[str, WidgetState] = {}  # what the client sends back
        self.texts: list[str] = []  # headings and markdown of the last run (for checks)
        self.cache: dict[str, bytes] = {}  # hash → cacheable ForwardMsg, as the frontend keeps them
        self._cache_age: dict[str, int] = {}
        self._cache_used: set[str] = set()
        self.max_cached_message_age = 2  # Streamlit's default; the server sends its own in new_session
        self.cache_hits = 0

    async def __aenter__(self) -> ProtocolSession:
        stream = self.base_url.replace("http://", "ws://", 1) + "/_stcore/stream"
        self.ws = await websockets.connect(stream, subprotocols=["streamlit"], max_size=None,
                                           open_timeout=self.timeout, ping_interval=None)
        return self

    async def __aexit__(self, *exc) -> None:
        if self.ws is not None:
            await self.ws.close()
            self.ws = None

    # -- what a user does -------------------------------------------------------------------
    async def open(self, page: str, query_string: str = "") -> RunResult:
        """First request of a tab opened on `/<page>?<query_string>` (a link, a bookmark)."""
        self.page_path, self.query_string = page, query_string
        return await self._rerun("open", page_name=page)

    async def switch_page(self, page: str) -> RunResult:
        """A click on a page of the sidebar navigation (the territory stays in session state)."""
        self.page_path, self.query_string = page, ""
        page_hash = self.pages.get(page, "")
        return await self._rerun("page", page_hash=page_hash, page_name="" if page_hash else page)

    async def rerun(self) -> RunResult:
        """A rerun with the same URL and widget states (the "R" key, or "Rerun" in the menu)."""
        return await self._rerun("rerun")

    async def set_widget(self, state: WidgetState) -> RunResult:
        """A user changes one widget: every widget's state is sent, with the new value."""
        self.states[state.id] = state
        return await self._rerun("widget")

    async def random_interaction(self, rng: random.Random, page_share: float = 0.2,
                                 sidebar_share: float = 0.4) -> RunResult | None:
        """A page switch, a territory change in the sidebar, or a change of a page filter."""
        others = [p for p in self.pages if p != self.page_path]
        if others and rng.random() < page_share:
            return await self.switch_page(rng.choice(others))
        sidebar = [w for w in self.changeable() if w.key in SIDEBAR_KEYS]
        page_widgets = [w for w in self.changeable() if w.key not in SIDEBAR_KEYS]
        pool = sidebar if sidebar and (not page_widgets or rng.random() < sidebar_share) else page_widgets
        for widget in rng.sample(pool, len(pool)):
            state = changed_state(widget, self.states.get(widget.id), rng)
            if state is not None:
                result = await self.set_widget(state)
                result.action = "territoire" if widget.key in SIDEBAR_KEYS else "filtre"
                return result
        return None

    def changeable(self) -> list[Widget]:
        return [w for w in self.widgets.values() if not getattr(w.proto, "disabled", False)]

    # -- the wire ---------------------------------------------------------------------------
    async def _rerun(self, action: str, page_hash: str = "", page_name: str = "") -> RunResult:
        msg = BackMsg()
        rerun = msg.rerun_script
        rerun.query_string = self.query_string
        rerun.page_script_hash = page_hash or ("" if page_name else self.page_hash)
        rerun.page_name = page_name
        rerun.widget_states.widgets.extend(self.states.values())
        rerun.cached_message_hashes.extend(self.cache)
        info = rerun.context_info
        info.url = f"{self.base_url}/{self.page_path}" + (f"?{self.query_string}" if self.query_string else "")
        info.locale, info.timezone, info.timezone_offset, info.color_scheme = "fr-FR", "Europe/Paris", -60, "light"
        t0 = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        result = RunResult(action=action, seconds=0.0, status="")
        await self._receive_run(result, time.monotonic() + self.timeout)
        result.seconds = time.perf_counter() - t0
        return result

    async def _recv(self, deadline: float) -> ForwardMsg:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ProtocolTimeout(f"no script_finished within {self.timeout:.0f} s")
        try:
            data = await asyncio.wait_for(self.ws.recv(), remaining)
        except asyncio.TimeoutError:
            raise ProtocolTimeout(f"no script_finished within {self.timeout:.0f} s") from None
        except websockets.ConnectionClosed as exc:
            raise ProtocolClosed(f"websocket closed by the server ({exc})") from None
        msg = ForwardMsg()
        msg.ParseFromString(data)
        self._last_size, self._last_bytes = len(data), data
        return msg

    def _resolve(self, msg: ForwardMsg, result: RunResult) -> ForwardMsg:
        """The message itself, or the cached one a `ref_hash` points to; caches cacheable ones."""
        if msg.WhichOneof("type") == "ref_hash":
            data = self.cache.get(msg.ref_hash)
            if data is None:
                result.exceptions.append(f"server referenced a message this client does not hold: {msg.ref_hash}")
                return msg
            self.cache_hits += 1
            self._cache_used.add(msg.ref_hash)
            cached = ForwardMsg()
            cached.ParseFromString(data)
            cached.metadata.CopyFrom(msg.metadata)
            return cached
        if msg.metadata.cacheable and msg.hash:
            self.cache[msg.hash] = self._last_bytes
            self._cache_used.add(msg.hash)
        return msg

    def _age_cache(self) -> None:
        """After a run: entries unused for more than `max_cached_message_age` runs are dropped."""
        for key in list(self.cache):
            self._cache_age[key] = 0 if key in self._cache_used else self._cache_age.get(key, 0) + 1
            if self._cache_age[key] > self.max_cached_message_age:
                del self.cache[key], self._cache_age[key]
        self._cache_used = set()

    async def _receive_run(self, result: RunResult, deadline: float) -> None:
        while True:
            msg = self._resolve(await self._recv(deadline), result)
            result.messages += 1
            result.bytes += self._last_size
            kind = msg.WhichOneof("type")
            if kind == "new_session":  # a script run starts: the screen is rebuilt
                self.page_hash = msg.new_session.page_script_hash or self.page_hash
                if msg.new_session.HasField("config"):
                    self.max_cached_message_age = msg.new_session.config.max_cached_message_age
                self.widgets, self.texts = {}, []
            elif kind == "navigation":
                self.pages = {p.url_pathname: p.page_script_hash for p in msg.navigation.app_pages}
                current = msg.navigation.page_script_hash
                self.page_path = next((p for p, h in self.pages.items() if h == current), self.page_path)
                self.page_hash = current or self.page_hash
            elif kind == "page_info_changed":
                self.query_string = msg.page_info_changed.query_string
            elif kind == "page_not_found":
                result.exceptions.append(f"page not found: {msg.page_not_found.page_name!r}")
            elif kind == "session_event" and msg.session_event.HasField("script_compilation_exception"):
                e = msg.session_event.script_compilation_exception
                result.exceptions.append(f"{e.type}: {e.message}")
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                self._element(msg.delta.new_element, result)
            elif kind == "script_finished" and msg.script_finished in ENDED:
                result.status = ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished)
                if msg.script_finished == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    # the compile error's message follows script_finished
                    try:
                        follow = await self._recv(min(deadline, time.monotonic() + 2))
                        if follow.session_event.HasField("script_compilation_exception"):
                            e = follow.session_event.script_compilation_exception
                            result.exceptions.append(f"{e.type}: {e.message}")
                    except ProtocolTimeout:
                        result.exceptions.append("script compilation error")
                self._forget_unmounted()
                self._age_cache()
                return

    def _element(self, element, result: RunResult) -> None:
        kind = element.WhichOneof("type")
        if kind == "exception":
            if not element.exception.is_warning:
                result.exceptions.append(f"{element.exception.type}: {element.exception.message}"[:300])
        elif kind in WIDGET_KINDS:
            proto = getattr(element, kind)
            widget = Widget(proto.id, kind, proto)
            self.widgets[widget.id] = widget
            pushed = getattr(proto, "set_value", False)
            if pushed or widget.id not in self.states:
                state = initial_state(widget)
                if state is not None:
                    self.states[widget.id] = state
        elif kind == "heading":
            self.texts.append(element.heading.body)
        elif kind == "markdown":
            self.texts.append(element.markdown.body)

    def _forget_unmounted(self) -> None:
        self.states = {i: s for i, s in self.states.items() if i in self.widgets}


@dataclass
class KindStats:
    """What one kind of client (protocol sessions or Chromium tabs) did during the load."""
    kind: str
    users: int = 0
    sessions: int = 0
    interactions: int = 0
    errors: list[str] = field(default_factory=list)
    timeouts: list[str] = field(default_factory=list)
    latency: list[float] = field(default_factory=list)
    actions: Counter = field(default_factory=Counter)
    by_page: dict[str, list[float]] = field(default_factory=dict)  # client latency per page shown

    def record(self, result: RunResult, page: str = "") -> None:
        self.interactions += 1
        self.latency.append(result.seconds)
        self.by_page.setdefault(page or "accueil", []).append(result.seconds)
        self.actions[result.action] += 1
        where = f" [{page}]" if page else ""
        self.errors.extend(f"{result.action}{where}: {e}" for e in result.exceptions)


async def protocol_user(base_url: str, deadline: float, seed: int, stats: KindStats, pages: list[str],
                        departements: list[str], think: tuple[float, float] = (0.3, 1.5),
                        reload_share: float = 0.05, timeout: float = DEFAULT_TIMEOUT) -> None:
    """A user until `deadline`: opens a random page on a random département, then changes the
    territory, the page filters and the page, with a think time between actions; now and then
    reloads the tab (a new websocket session on the current URL)."""
    rng = random.Random(seed)
    page, query = rng.choice(pages), f"dep={rng.choice(departements)}" if departements else ""
    # Every action follows a think time, the first one included: people in a room open the link
    # when they are told to, not all in the same millisecond (stress: within 0.3–1.5 s).
    await asyncio.sleep(min(rng.uniform(*think), max(0.0, deadline - time.monotonic())))
    while time.monotonic() < deadline:
        stats.sessions += 1
        try:
            async with ProtocolSession(base_url, timeout=timeout) as session:
                stats.record(await session.open(page, query), session.page_path)
                while time.monotonic() < deadline:
                    await asyncio.sleep(rng.uniform(*think))
                    if time.monotonic() >= deadline:
                        break
                    if rng.random() < reload_share:
                        page, query = session.page_path, session.query_string
                        break
                    result = await session.random_interaction(rng)
                    if result is not None:
                        stats.record(result, session.page_path)
        except ProtocolTimeout as exc:
            stats.timeouts.append(str(exc))
        except (ProtocolClosed, OSError) as exc:
            stats.errors.append(f"connection: {exc}")
            await asyncio.sleep(1)
