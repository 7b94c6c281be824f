"""Assignment, bot detection and visit details: pure functions, no app needed."""

from __future__ import annotations

import hashlib
import random
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

import pytest
from scipy.stats import chisquare

from kit.tracking.assignment import bucket
from kit.tracking.assignment import choose_variant
from kit.tracking.traffic import MAX_TAG_LENGTH
from kit.tracking.traffic import device_class
from kit.tracking.traffic import is_bot
from kit.tracking.traffic import referrer_host
from kit.tracking.traffic import utm_tags

ROOT = Path(__file__).parents[2]
AB = [("a", 1.0), ("b", 1.0)]

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36"
)
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Mobile Safari/537.36"
)
IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)
ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36"
)
SAFARI_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15"
)
EDGE = CHROME + " Edg/130.0.0.0"

BOTS = {
    "Googlebot": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Googlebot smartphone": (
        "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36 "
        "(compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    ),
    "Bingbot": "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Slackbot": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Twitterbot": "Twitterbot/1.0",
    "facebookexternalhit": (
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"
    ),
    "LinkedInBot": "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "Discordbot": "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "WhatsApp": "WhatsApp/2.23.20.0",
    "TelegramBot": "TelegramBot (like TwitterBot)",
    "curl": "curl/8.5.0",
    "Wget": "Wget/1.21.4",
    "python-requests": "python-requests/2.32.3",
    "HeadlessChrome": CHROME.replace("Chrome/", "HeadlessChrome/"),
    "empty": "",
    "missing": None,
}
BROWSERS = {
    "Chrome": CHROME,
    "Firefox": FIREFOX,
    "Safari iPhone": SAFARI_IPHONE,
    "Android Chrome": ANDROID_CHROME,
    "Safari Mac": SAFARI_MAC,
    "Edge": EDGE,
    "iPad": IPAD,
}


def random_ids(n: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    return [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(n)]


def test_same_visitor_always_gets_the_same_variant():
    for vid in random_ids(1000):
        first = choose_variant(AB, "headline-1", vid)
        assert all(choose_variant(AB, "headline-1", vid) == first for _ in range(3))


def test_assignment_is_the_same_in_another_process_with_another_hash_seed():
    """Workers, dynos and restarts agree: nothing depends on Python's per-process hash()."""
    ids = random_ids(500)
    here = [choose_variant(AB, "headline-1", vid) for vid in ids]
    script = (
        "import sys\n"
        "from kit.tracking.assignment import choose_variant\n"
        "ids = sys.stdin.read().split()\n"
        "print(' '.join(choose_variant([('a', 1.0), ('b', 1.0)], 'headline-1', v) for v in ids))\n"
    )
    for seed in ("1", "12345"):
        there = subprocess.run(
            [sys.executable, "-c", script],
            input="\n".join(ids),
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
            env={"PYTHONHASHSEED": seed, "PATH": ""},
        ).stdout.split()
        assert there == here


def test_buckets_are_pinned_to_sha256():
    """The documented method (SHA-256 of "key:id"), so assignments survive kit upgrades."""
    digest = hashlib.sha256(b"headline-1:visitor-1").digest()
    assert bucket("headline-1", "visitor-1") == int.from_bytes(digest[:8], "big") / 2**64
    assert bucket("headline-1", "visitor-1") == pytest.approx(0.9607373777040137, abs=1e-15)
    assigned = [choose_variant(AB, "headline-1", f"visitor-{i}") for i in range(8)]
    assert assigned == ["a", "b", "b", "a", "b", "a", "a", "b"]


def test_different_experiments_split_visitors_independently():
    ids = random_ids(20_000)
    pairs = Counter(
        (choose_variant(AB, "exp-1", vid), choose_variant(AB, "exp-2", vid)) for vid in ids
    )
    # Independent halves: each of the four combinations holds about a quarter.
    assert chisquare(list(pairs.values())).pvalue > 0.001
    assert len(pairs) == 4


@pytest.mark.parametrize(
    "weights",
    [
        [("a", 1.0), ("b", 1.0)],
        [("a", 1.0), ("b", 2.0), ("c", 1.0)],
        [("control", 9.0), ("bold", 1.0)],
        [("a", 0.2), ("b", 0.3), ("c", 0.5)],
    ],
    ids=["1:1", "1:2:1", "9:1", "fractions"],
)
def test_100_000_visitors_split_within_sampling_error_of_the_weights(weights):
    counts = Counter(choose_variant(weights, "split-test", vid) for vid in random_ids(100_000))
    total = sum(w for _, w in weights)
    observed = [counts[name] for name, _ in weights]
    expected = [100_000 * w / total for _, w in weights]
    assert sum(observed) == 100_000
    assert chisquare(observed, expected).pvalue > 0.001, (observed, expected)


def test_changing_weights_moves_as_few_visitors_as_possible():
    ids = random_ids(50_000)
    before = [choose_variant([("a", 50), ("b", 50)], "exp", vid) for vid in ids]
    after = [choose_variant([("a", 60), ("b", 40)], "exp", vid) for vid in ids]
    moved = sum(x != y for x, y in zip(before, after, strict=True)) / len(ids)
    assert 0.09 < moved < 0.11  # the 10 % that changed hands, not a reshuffle (~50 %)
    assert all(y == "a" for x, y in zip(before, after, strict=True) if x != y)


def test_adding_a_variant_at_the_end_only_takes_from_the_others():
    ids = random_ids(30_000)
    before = [choose_variant([("a", 1), ("b", 1)], "exp", vid) for vid in ids]
    after = [choose_variant([("a", 1), ("b", 1), ("c", 1)], "exp", vid) for vid in ids]
    moved = [(x, y) for x, y in zip(before, after, strict=True) if x != y]
    # a keeps [0, 1/3), b moves to [1/3, 2/3): a third lands in c, one sixth shifts a -> b.
    assert {y for _, y in moved} <= {"b", "c"}
    assert 0.47 < len(moved) / len(ids) < 0.53


def test_changing_the_experiment_key_reshuffles():
    ids = random_ids(20_000)
    old = [choose_variant(AB, "headline-1", vid) for vid in ids]
    new = [choose_variant(AB, "headline-2", vid) for vid in ids]
    changed = sum(x != y for x, y in zip(old, new, strict=True)) / len(ids)
    assert 0.47 < changed < 0.53


@pytest.mark.parametrize("agent", BOTS.values(), ids=BOTS.keys())
def test_crawlers_previews_and_scripts_are_bots(agent):
    assert is_bot(agent)


@pytest.mark.parametrize("agent", BROWSERS.values(), ids=BROWSERS.keys())
def test_real_browsers_are_people(agent):
    assert not is_bot(agent)
    assert not is_bot(agent, "GET")
    assert not is_bot(agent, "POST")


def test_head_requests_are_bots_even_from_a_browser():
    assert is_bot(CHROME, "HEAD")


@pytest.mark.parametrize(
    ("agent", "device"),
    [
        (CHROME, "desktop"),
        (FIREFOX, "desktop"),
        (SAFARI_MAC, "desktop"),
        (EDGE, "desktop"),
        (SAFARI_IPHONE, "mobile"),
        (ANDROID_CHROME, "mobile"),
        (IPAD, "tablet"),
        (ANDROID_TABLET, "tablet"),
        ("", "desktop"),
        (None, "desktop"),
    ],
)
def test_device_class(agent, device):
    assert device_class(agent) == device


@pytest.mark.parametrize(
    ("referrer", "own", "host"),
    [
        ("https://www.google.com/search?q=tidyday", "tidyday.app", "google.com"),
        ("https://news.ycombinator.com/item?id=1", "tidyday.app", "news.ycombinator.com"),
        ("https://T.CO/abc", "tidyday.app", "t.co"),
        ("https://tidyday.app/pricing", "tidyday.app", None),
        ("https://tidyday.app/pricing", "tidyday.app:443", None),
        ("http://localhost:5000/demo", "localhost:5000", None),
        ("https://www.tidyday.app/", "tidyday.app", None),
        ("https://tidyday.app/", "www.tidyday.app", None),
        ("http://[::1]:5000/demo", "[::1]:5000", None),
        ("android-app://com.google.android.gm/", "tidyday.app", "com.google.android.gm"),
        ("", "tidyday.app", None),
        (None, "tidyday.app", None),
        ("not a url", "tidyday.app", None),
        ("http://[broken/", "tidyday.app", None),
    ],
)
def test_referrer_keeps_only_an_external_host(referrer, own, host):
    assert referrer_host(referrer, own) == host


def test_referrer_keeps_no_path_or_query():
    host = referrer_host("https://mail.example.com/inbox?user=ada@example.com#msg", "x.app")
    assert host == "mail.example.com"


def test_utm_tags_are_trimmed_cut_and_empty_means_none():
    tags = utm_tags(
        {
            "utm_source": "  newsletter ",
            "utm_medium": "",
            "utm_campaign": "x" * 500,
            "utm_term": "   ",
            "other": "ignored",
        }
    )
    assert tags == {
        "utm_source": "newsletter",
        "utm_medium": None,
        "utm_campaign": "x" * MAX_TAG_LENGTH,
        "utm_content": None,
        "utm_term": None,
    }


def test_utm_tags_drop_control_characters_postgres_cannot_store():
    tags = utm_tags({"utm_source": "\x00news\x00letter\x1b", "utm_medium": "\x00\x00"})
    assert tags["utm_source"] == "newsletter"
    assert tags["utm_medium"] is None


def test_referrer_with_control_characters_keeps_a_clean_host():
    assert referrer_host("https://exa\x00mple.com/x") in (None, "example.com")
