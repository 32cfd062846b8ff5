"""The load benchmark's websocket driver (bench/load_ws.py) and its smoke run (bench/load.py).

The driver must speak Streamlit's protocol as a browser tab does (a filter change reaches the app,
the widget states it sends back leave the view as it is) and must count an exception raised in a
run — a load test that could not see an error would prove nothing.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import math
import random
from pathlib import Path

import pytest
from streamlit.proto.NumberInput_pb2 import NumberInput
from streamlit.proto.Selectbox_pb2 import Selectbox
from streamlit.proto.Slider_pb2 import Slider

from bench.load import format_report, quantile, read_timings, run_load
from bench.load_ws import ProtocolSession, Widget, changed_state, initial_state, require_loopback

PANNE = Path(__file__).parent / "fixtures" / "bench_load" / "panne.py"


def _in_thread(function, *args, **kwargs):
    """Runs `function` in a thread of its own: the browser tests' sync Playwright keeps an event loop
    running in the main thread for the whole session, where `asyncio.run` is refused."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(function, *args, **kwargs).result()


def _run(coroutine):
    return _in_thread(asyncio.run, coroutine)


# -- pure rules --------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["http://127.0.0.1:8501", "http://localhost:8501", "http://[::1]:8501",
                                 "http://127.3.2.1:80"])
def test_loopback_targets_are_accepted(url):
    require_loopback(url)


@pytest.mark.parametrize("url", ["http://10.0.0.1:8501", "http://192.168.1.2:8501", "http://example.org",
                                 "http://8.8.8.8:80"])
def test_non_loopback_targets_are_refused(url):
    with pytest.raises(ValueError, match="loopback"):
        ProtocolSession(url)


def test_selectbox_change_picks_another_option_and_default_is_the_indexed_option():
    proto = Selectbox(id="$$ID-abc-dep", options=["35 — Ille-et-Vilaine", "61 — Orne"], default=0)
    widget = Widget(proto.id, "selectbox", proto)
    assert widget.key == "dep"
    current = initial_state(widget)
    assert current.string_value == "35 — Ille-et-Vilaine"
    rng = random.Random(0)
    assert {changed_state(widget, current, rng).string_value for _ in range(20)} == {"61 — Orne"}


def test_selectbox_value_pushed_by_the_server_replaces_the_default():
    proto = Selectbox(id="$$ID-abc-epci", options=["", "243500139"], default=0, raw_value="243500139",
                      set_value=True)
    assert initial_state(Widget(proto.id, "selectbox", proto)).string_value == "243500139"


def test_slider_change_stays_on_its_step_grid_within_bounds():
    proto = Slider(id="s", min=0, max=100, step=5, default=[100], data_type=Slider.INT, type=Slider.SLIDER)
    widget, rng = Widget("s", "slider", proto), random.Random(1)
    for _ in range(50):
        (value,) = changed_state(widget, None, rng).double_array_value.data
        assert 0 <= value <= 100 and value % 5 == 0


def test_range_select_slider_sends_two_ordered_formatted_options():
    proto = Slider(id="r", type=Slider.SELECT_SLIDER, options=["a", "b", "c", "d"], default=[0, 3])
    widget = Widget("r", "slider", proto)
    assert list(initial_state(widget).string_array_value.data) == ["a", "d"]
    for seed in range(20):
        low, high = changed_state(widget, None, random.Random(seed)).string_array_value.data
        assert "abcd".index(low) < "abcd".index(high)


def test_integer_number_input_change_is_a_whole_number_within_bounds():
    proto = NumberInput(id="n", has_min=True, has_max=True, min=1, max=4, step=1, default=3,
                        data_type=NumberInput.INT)
    widget, rng = Widget("n", "number_input", proto), random.Random(2)
    values = {changed_state(widget, None, rng).double_value for _ in range(50)}
    assert values <= {1.0, 2.0, 3.0, 4.0} and len(values) > 1


def test_number_input_without_default_registers_no_state():
    proto = NumberInput(id="n", has_min=True, has_max=True, min=0, max=60, step=1)
    assert initial_state(Widget("n", "number_input", proto)) is None


def test_quantile_is_inclusive_and_nan_when_empty():
    assert quantile([1.0, 2.0, 3.0, 4.0, 5.0], 0.5) == 3.0
    assert quantile([7.0], 0.95) == 7.0
    assert math.isnan(quantile([], 0.5))


def test_timed_run_records_wall_and_cpu_seconds_of_the_run(tmp_path, monkeypatch):
    from ui.bootstrap import timed_run
    path = tmp_path / "timings.tsv"
    monkeypatch.setenv("OBSERVATOIRE_TIMINGS", str(path))
    with timed_run("accueil"):
        sum(i * i for i in range(300_000))  # CPU
        import time
        time.sleep(0.2)  # waiting: wall time, no CPU
    ((label, wall, cpu),) = read_timings(path)
    assert label == "accueil"
    assert 0 < cpu < wall and wall >= 0.2 and wall - cpu >= 0.15


def test_timings_written_before_cpu_was_recorded_still_read(tmp_path):
    path = tmp_path / "old.tsv"
    path.write_text("fragilite\t0.5000\naccueil\t0.1000\t0.0500\n")
    (old, new) = read_timings(path)
    assert old[:2] == ("fragilite", 0.5) and math.isnan(old[2])
    assert new == ("accueil", 0.1, 0.05)


# -- against the app served on the small database ------------------------------------------------

def test_territory_change_over_the_websocket_reaches_the_app(app_url):
    async def scenario():
        async with ProtocolSession(app_url) as session:
            opened = await session.open("", "dep=35")
            assert opened.status == "FINISHED_SUCCESSFULLY" and not opened.exceptions
            assert "dep=35" in session.query_string
            dep = next(w for w in session.widgets.values() if w.key == "dep")
            orne = next(o for o in dep.proto.options if o.startswith("61"))
            state = initial_state(dep)
            state.string_value = orne
            changed = await session.set_widget(state)
            assert changed.status == "FINISHED_SUCCESSFULLY" and not changed.exceptions
            return session.query_string, session.texts
    query, texts = _run(scenario())
    assert "dep=61" in query
    assert any("Orne" in text for text in texts), texts


@pytest.mark.parametrize("page", ["fragilite", "cfppa", "ctg", "portrait", "aide-domicile"])
def test_widget_states_sent_back_unchanged_keep_the_view(app_url, page):
    """The states the driver registers for the widgets it sees are the ones the app set: sending
    them back changes neither the URL (bound filters) nor what the page shows."""
    async def scenario():
        async with ProtocolSession(app_url) as session:
            first = await session.open(page, "dep=61")
            before = (session.query_string, list(session.texts), sorted(session.widgets))
            again = await session.rerun()
            after = (session.query_string, list(session.texts), sorted(session.widgets))
            return first, again, before, after, len(session.states)
    first, again, before, after, states = _run(scenario())
    assert not first.exceptions and not again.exceptions, first.exceptions + again.exceptions
    assert states >= 2  # the sidebar selectors at least
    assert after == before


def test_large_messages_the_client_holds_are_sent_back_as_references(app_url):
    """As with a browser, the hashes of cached messages go with the rerun: the server then sends a
    `ref_hash` for an unchanged map instead of the map, and the driver still sees the whole page."""
    async def scenario():
        async with ProtocolSession(app_url) as session:
            first = await session.open("", "dep=61")
            before = (list(session.texts), sorted(session.widgets))
            held, held_bytes = len(session.cache), sum(map(len, session.cache.values()))
            again = await session.rerun()
            return (first, again, held, held_bytes, session.cache_hits, before,
                    (list(session.texts), sorted(session.widgets)))
    first, again, held, held_bytes, hits, before, after = _run(scenario())
    assert held >= 1 and hits >= 1 and held_bytes > 10_000  # the maps are among the cached messages
    assert first.bytes - again.bytes > 0.9 * held_bytes  # what the client holds is not sent again
    assert after == before and not again.exceptions


def test_page_switch_keeps_the_territory(app_url):
    async def scenario():
        async with ProtocolSession(app_url) as session:
            await session.open("", "dep=61")
            switched = await session.switch_page("fragilite")
            return switched, session.page_path, session.query_string
    switched, path, query = _run(scenario())
    assert switched.status == "FINISHED_SUCCESSFULLY" and not switched.exceptions
    assert path == "fragilite" and "dep=61" in query


def test_exception_in_a_run_is_counted_as_an_error():
    from bench.load import serve

    async def scenario(url):
        async with ProtocolSession(url) as session:  # a link that breaks the run
            linked = await session.open("", "mode=panne")
        async with ProtocolSession(url) as session:  # a filter change that breaks it
            calm = await session.open("", "")
            mode = next(w for w in session.widgets.values() if w.key == "mode")
            changed = await session.set_widget(changed_state(mode, session.states[mode.id], random.Random(0)))
        return linked, calm, changed
    with serve(PANNE, {}) as (url, _):
        linked, calm, changed = _run(scenario(url))
    assert calm.exceptions == []
    assert linked.exceptions == ["RuntimeError: panne simulée"]
    assert changed.exceptions == ["RuntimeError: panne simulée"]
    assert changed.status == "FINISHED_SUCCESSFULLY"  # Streamlit shows the error; the run ends


def test_load_run_counts_the_errors_its_users_meet(small_db_path):
    report = _in_thread(run_load, small_db_path, sessions=1, browsers=0, seconds=4, app=PANNE)
    assert report.interactions >= 2
    assert report.errors >= 1
    assert any("panne simulée" in e for e in report.kinds[0].errors)
    assert "FAILED" in format_report(report)


def test_two_protocol_sessions_change_filters_for_ten_seconds_without_error(small_db_path):
    report = _in_thread(run_load, small_db_path, sessions=2, browsers=0, seconds=10)
    text = format_report(report)
    print(text)
    (protocol,) = report.kinds
    assert protocol.users == 2 and protocol.sessions >= 2
    assert report.interactions > 2, text  # more than the two opening requests
    assert protocol.actions["territoire"] + protocol.actions["filtre"] + protocol.actions["page"] > 0
    assert report.errors == 0 and report.timeouts == 0, text
    assert len(report.server_runs) >= report.interactions  # each interaction ran the script
    assert all(0 <= cpu <= wall + 0.05 for _, wall, cpu in report.server_runs)
    assert report.departements == 2 and "fragilite" in report.pages
    assert 0 < report.rss_idle <= report.rss_peak
    assert "OK:" in text


def test_load_through_the_proxy_on_two_workers_reports_clients_per_page_and_both_workers(small_db_path):
    from bench.load import summary
    report = _in_thread(run_load, small_db_path, sessions=4, browsers=0, seconds=10, workers=2,
                        think=(0.3, 1.0), profile="stress")
    text = format_report(report)
    print(text)
    assert report.workers == 2 and report.proxy and "2 Streamlit workers behind Caddy" in text
    assert report.url.startswith("http://127.0.0.1:")
    assert report.errors == 0 and report.timeouts == 0, text
    (protocol,) = report.kinds
    assert sum(len(v) for v in protocol.by_page.values()) == protocol.interactions
    assert len(report.server_runs) >= report.interactions   # runs read from both workers' files
    assert "stress" in summary([report])


@pytest.mark.browser
def test_a_chromium_user_times_each_territory_change_until_its_run_is_drawn(small_db_path):
    """The Chromium user of the load bench times an action until the run it asked for has ended and
    the page is drawn. A wait the page's previous state could satisfy would time actions that ran
    nothing (more timed actions than runs); one waiting for a run that never comes (choosing the
    territory already shown) would time out."""
    report = _in_thread(run_load, small_db_path, sessions=1, browsers=1, seconds=20, think=(0.3, 1.0),
                        profile="stress")
    text = format_report(report)
    print(text)
    (chromium,) = report.kinds
    assert report.timeouts == 0 and report.errors == 0, text
    assert chromium.actions["open"] == 1 and chromium.actions["territoire"] >= 3, text
    assert len(report.server_runs) >= chromium.interactions, text  # every timed action ran the script
    runs = sorted(wall for _, wall, _ in report.server_runs)
    assert sorted(chromium.latency)[0] >= runs[0], text  # what the client waits includes the run


@pytest.mark.browser
def test_first_visit_bench_reports_fewer_bytes_through_the_proxy(small_db_path, capsys):
    from bench import firstopen
    assert _in_thread(firstopen.main, ["--db", str(small_db_path), "--runs", "1", "--down-mbps", "0"]) == 0
    out = capsys.readouterr().out
    print(out)
    static = {line.split()[0]: float(line.split("JS/CSS/fonts")[1].split()[0])
              for line in out.splitlines() if "JS/CSS/fonts" in line}
    assert set(static) == {"straight", "through"}, out
    assert 0 < static["through"] < 0.5 * static["straight"], out  # compressed by the proxy
