"""The simulated partners of the mixed load: one asyncio task per person, one shared
httpx.AsyncClient (no shared cookie jar: each partner sends its own session cookie),
each partner acting one request at a time with a think time in between, as a person
in a browser or an app does.

Every response body is scanned for markers (bench.mixed_ledger) as it arrives; every
acknowledged write is recorded in the ledger for the checks after the load.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import ssl
import sys
import time
import zoneinfo
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import httpx

from bench.mixed_ledger import MARKER, CheckinWrite, Ledger, Seen
from bench.mixed_seed import PASSWORD, WORDS, PartnerSpec

try:
    import sniffio  # noqa: F401
except ImportError:
    # httpcore tries `import sniffio` on every lock it sets up (several per request);
    # a failed import is not remembered and searches sys.path again each time, which
    # was a third of this client's CPU. None in sys.modules makes it fail at once.
    sys.modules["sniffio"] = None  # type: ignore[assignment]

REACTIONS = ["heart", "hug", "proud", "same", "laugh"]
RATINGS = ["spot_on", "close", "not_quite"]
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TOPICS_PER_PERSON = 8


class _NoCookies(DefaultCookiePolicy):
    """The shared client must never store a cookie: one partner's session cookie
    sent with another partner's request would look like a leak (or hide one)."""

    def set_ok(self, cookie: Any, request: Any) -> bool:
        return False

    def return_ok(self, cookie: Any, request: Any) -> bool:
        return False


@dataclass
class Result:
    status: int
    body: str
    response: httpx.Response

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Partner:
    spec: PartnerSpec
    rng: random.Random
    zone: zoneinfo.ZoneInfo
    topics: list[int]  # the love-map topics this person writes about
    session_cookie: str = ""
    checkin_questions: list[int] = field(default_factory=list)
    questions_date: str = ""
    question_id: int | None = None
    question_state: str = ""
    partner_checkin: tuple[int, float] | None = None  # (id, when the read was sent)
    private_sent_at: float = -1.0  # when I last sent a private check-in
    partner_topics: list[tuple[int, str]] = field(default_factory=list)
    guesses_to_rate: list[int] = field(default_factory=list)
    answered_topics: set[int] = field(default_factory=set)

    @property
    def user_id(self) -> int:
        return self.spec.user_id

    @property
    def couple(self) -> int:
        return self.spec.couple

    def today(self) -> str:
        return datetime.now(UTC).astimezone(self.zone).date().isoformat()


@dataclass
class Stats:
    # Seconds from wanting to send to the answer (what the person waits), and from
    # sending to the answer (without the wait for a free client connection).
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    in_flight: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    no_store_missing: Counter[str] = field(default_factory=Counter)
    started: float = 0.0
    finished: float = 0.0
    timeline: Counter[int] = field(default_factory=Counter)  # requests per 10 s
    server_cpu: float = 0.0  # seconds, gunicorn, during the load
    client_cpu: float = 0.0  # seconds, this process, during the load
    waited: float = 0.0  # seconds, all requests, for a free connection slot
    actions: int = 0
    deadline: float = 0.0
    in_window: int = 0  # requests answered before the deadline
    database_cpu: float = 0.0  # seconds, PostgreSQL backends of the benchmark database

    def record(self, endpoint: str, status: str, elapsed: float, in_flight: float) -> None:
        self.latencies[endpoint].append(elapsed)
        self.in_flight[endpoint].append(in_flight)
        self.statuses[endpoint][status] += 1
        if self.started:
            now = time.monotonic()
            self.timeline[int((now - self.started) // 10)] += 1
            self.in_window += now <= self.deadline

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values())


# Endpoints that return a couple's content: each must say Cache-Control: no-store.
NO_STORE_EXEMPT = {"auth.login_page", "auth.login", "auth.token"}


class Simulation:
    def __init__(
        self,
        *,
        base_url: str,
        specs: list[PartnerSpec],
        ledger: Ledger,
        seed: int,
        think: tuple[float, float],
        connections: int,
        topics: list[int],
        session_cookie_name: str,
        csrf_cookie_name: str,
        double_submits: float = 0.8,
    ) -> None:
        self.base_url = base_url
        self.ledger = ledger
        self.think = think
        self.connections = connections
        self.session_cookie_name = session_cookie_name
        self.csrf_cookie_name = csrf_cookie_name
        self.stats = Stats()
        self.partners: list[Partner] = []
        for spec in specs:
            rng = random.Random(f"{seed}-{spec.index}")
            self.partners.append(
                Partner(
                    spec=spec,
                    rng=rng,
                    zone=zoneinfo.ZoneInfo(spec.timezone),
                    topics=rng.sample(topics[:40], TOPICS_PER_PERSON),
                )
            )
        self.by_user = {p.user_id: p for p in self.partners}
        # Idle clients; a request takes one, and waits its turn while all are busy.
        self.idle: list[httpx.AsyncClient] = []
        self.turns = asyncio.Semaphore(connections)  # first come, first served (per loop)
        self.actions: list[tuple[Callable[[Partner], Awaitable[None]], float]] = [
            (self.checkin_put, 3),
            (self.checkin_today, 2),
            (self.checkin_respond, 1.5),
            (self.question_today, 2),
            (self.question_answer, 2.5),
            (self.question_react, 0.5),
            (self.dashboard_api, 3),
            (self.dashboard_html, 2),
            (self.history_api, 1.5),
            (self.question_list, 0.5),
            (self.lovemap_partner, 1.5),
            (self.lovemap_answer, 2),
            (self.lovemap_reveal, 1),
            (self.lovemap_mine, 0.7),
            (self.lovemap_rate, 0.7),
            (self.lovemap_confirm, 0.3),
            (self.freshness, 0.5),
            (self.history_html, 0.5),
            (self.question_html, 0.5),
            (self.lovemap_partner_html, 0.5),
            (self.double_submit, double_submits),
        ]

    # --- running ---------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _clients(self) -> AsyncIterator[None]:
        """`connections` clients of one connection each, rather than one client with
        a pool: httpcore's pool does work in proportion to waiting requests times
        connections on every request, which with hundreds of partners waiting cost as
        much CPU as the server spent. Waiting for a free client is cheap, and counts in
        the latency (the person waits all the same)."""
        tls = ssl.create_default_context()  # unused on http://, but costly per client
        self.turns = asyncio.Semaphore(self.connections)  # bound to this event loop
        async with contextlib.AsyncExitStack() as stack:
            for _ in range(self.connections):
                client = httpx.AsyncClient(
                    base_url=self.base_url,
                    verify=tls,
                    cookies=CookieJar(policy=_NoCookies()),
                    limits=httpx.Limits(max_connections=1, max_keepalive_connections=0),
                    timeout=httpx.Timeout(connect=30, read=300, write=30, pool=30),
                    follow_redirects=False,
                )
                self.idle.append(await stack.enter_async_context(client))
            yield
            self.idle = []

    async def login_all(self, partners: list[Partner]) -> float:
        """The real log-ins (API token and browser session) of some partners, all at
        once; returns the wall time."""
        started = time.monotonic()
        async with self._clients():
            await asyncio.gather(*(self.login(p) for p in partners))
        return time.monotonic() - started

    async def run(self, duration: float) -> None:
        async with self._clients():
            self.stats.waited = 0.0  # the log-ins' waits don't count
            self.stats.started = time.monotonic()
            self.stats.deadline = deadline = self.stats.started + duration
            cpu = time.process_time()
            await asyncio.gather(*(self.loop(p, deadline) for p in self.partners))
            self.stats.client_cpu = time.process_time() - cpu
            self.stats.finished = time.monotonic()

    async def loop(self, p: Partner, deadline: float) -> None:
        low, high = self.think
        actions = [a for a, _ in self.actions]
        weights = [w for _, w in self.actions]
        pause = p.rng.uniform(0, high)  # arrivals spread over one think time
        while time.monotonic() + pause < deadline:
            await asyncio.sleep(pause)
            # An action already under way always finishes: a write cut off mid-flight
            # would leave its outcome unknown.
            await p.rng.choices(actions, weights)[0](p)
            self.stats.actions += 1
            pause = p.rng.uniform(low, high)

    # --- one request -------------------------------------------------------------------

    async def call(
        self,
        p: Partner,
        endpoint: str,
        method: str,
        path: str,
        *,
        body: Any = None,
        form: dict[str, str] | None = None,
        html: bool = False,
        auth: bool = True,
        expect: Collection[int] = (200,),
        allow: Callable[[int, str], bool] | None = None,
        cookies: str | None = None,
    ) -> Result | None:
        """Send one request as partner `p`; record its latency and status, scan its
        body. Returns None when there was no HTTP answer; 5xx and unexpected statuses
        are failures (`allow` may excuse a status the API documents for a race)."""
        headers: dict[str, str] = {}
        if auth and html:
            headers["Cookie"] = f"{self.session_cookie_name}={p.session_cookie}"
        elif auth:
            headers["Authorization"] = f"Token {p.spec.token}"
        if cookies:
            headers["Cookie"] = cookies
        queued = time.perf_counter()
        # A semaphore, not a queue of clients: a queue hands a just-returned client to
        # whoever asks next, so an action's second request would jump the line.
        await self.turns.acquire()
        client = self.idle.pop()
        sent = time.perf_counter()
        self.stats.waited += sent - queued
        try:
            response = await client.request(method, path, headers=headers, json=body, data=form)
            text = response.text
        except httpx.HTTPError as exc:
            now = time.perf_counter()
            self.stats.record(endpoint, "error", now - queued, now - sent)
            self.ledger.fail(
                f"{endpoint}: {method} {path} as user {p.user_id} (couple {p.couple}): "
                f"no response: {type(exc).__name__}: {exc}"
            )
            return None
        finally:
            self.idle.append(client)
            self.turns.release()
        answered = time.perf_counter()
        status = response.status_code
        self.stats.record(endpoint, str(status), answered - queued, answered - sent)
        self._scan(p, text, f"{method} {path}")
        cache_control = response.headers.get("cache-control", "")
        if endpoint not in NO_STORE_EXEMPT and status < 400 and "no-store" not in cache_control:
            self.stats.no_store_missing[endpoint] += 1
        if html and auth:
            self._keep_session(p, response)
        if status >= 500 or (status not in expect and not (allow and allow(status, text))):
            self.ledger.fail(
                f"{endpoint}: {method} {path} as user {p.user_id} (couple {p.couple}) -> "
                f"{status}{' (unexpected)' if status < 500 else ''}; "
                f"sent {json.dumps(body or form)[:300]}; got {text[:300]!r}"
            )
        return Result(status, text, response)

    async def send(self, p: Partner, twice: bool, *args: Any, **kwargs: Any) -> list[Result | None]:
        """A write, once, or twice at the same moment: a double click, or a client
        retrying while the first try is still under way. Both must succeed and store
        one thing."""
        if not twice:
            return [await self.call(p, *args, **kwargs)]
        args = (f"{args[0]} x2", *args[1:])  # its own row in the table
        return list(
            await asyncio.gather(self.call(p, *args, **kwargs), self.call(p, *args, **kwargs))
        )

    async def double_submit(self, p: Partner) -> None:
        write = p.rng.choice(
            [self.checkin_put, self.question_answer, self.lovemap_answer, self.checkin_respond]
        )
        await write(p, twice=True)

    def _keep_session(self, p: Partner, response: httpx.Response) -> None:
        value = response.cookies.get(self.session_cookie_name)
        if value:
            p.session_cookie = value

    def _scan(self, p: Partner, body: str, where: str) -> None:
        """Every marker in a response must be the requester's couple's; a partner's
        private check-in text never reaches them; a partner's question answer or
        love-map answer is noted, to be checked against what was revealed."""
        if "nz" not in body:
            return
        ledger = self.ledger
        seen: set[str] = set()
        for match in MARKER.finditer(body):
            if match.group(0) in seen:
                continue
            seen.add(match.group(0))
            couple, serial = int(match.group(1)), int(match.group(2))
            text = ledger.texts.get(serial)
            if couple != p.couple:
                ledger.leaks += 1
                what = f"{text.kind} by user {text.author}" if text else "unknown text"
                ledger.fail(
                    f"LEAK: {where} as user {p.user_id} (couple {p.couple}) contains couple "
                    f"{couple}'s {what} (marker {match.group(0)})"
                )
                continue
            if text is None or text.couple != couple:
                ledger.fail(f"unknown marker {match.group(0)} in {where} as user {p.user_id}")
                continue
            if text.author == p.user_id:
                continue
            if text.private:
                ledger.leaks += 1
                ledger.fail(
                    f"PRIVATE LEAK: {where} as user {p.user_id} contains the partner's private "
                    f"check-in text {match.group(0)}"
                )
            elif text.kind == "question_answer":
                ledger.seen_answers.append(Seen(p.user_id, serial, where))
            elif text.kind == "lovemap_answer":
                ledger.seen_lovemap.append(Seen(p.user_id, serial, where))

    def mark(self, p: Partner, kind: str, **extra: Any) -> str:
        return self.ledger.mark(
            couple=p.couple, author=p.user_id, kind=kind, words=p.rng.choice(WORDS), **extra
        )

    # --- log-in --------------------------------------------------------------------------

    async def login(self, p: Partner) -> None:
        """Authenticate as a person does: an API token, and a browser session through
        the log-in form with its CSRF token."""
        result = await self.call(
            p,
            "auth.token",
            "POST",
            "/api/v1/auth/token",
            body={"email": p.spec.email, "password": PASSWORD},
            auth=False,
        )
        if result and result.status == 200:
            p.spec.token = result.json()["token"]
        page = await self.call(p, "auth.login_page", "GET", "/login/", auth=False)
        if page is None or page.status != 200:
            return
        found = CSRF_FIELD.search(page.body)
        csrf_cookie = page.response.cookies.get(self.csrf_cookie_name)
        if not found or not csrf_cookie:
            self.ledger.fail(f"auth.login_page: no CSRF token for user {p.user_id}")
            return
        done = await self.call(
            p,
            "auth.login",
            "POST",
            "/login/",
            form={
                "username": p.spec.email,
                "password": PASSWORD,
                "csrfmiddlewaretoken": found.group(1),
            },
            auth=False,
            cookies=f"{self.csrf_cookie_name}={csrf_cookie}",
            expect=(302,),
        )
        session = done.response.cookies.get(self.session_cookie_name) if done else None
        if done and done.status == 302 and not session:
            self.ledger.fail(f"auth.login: no session cookie for user {p.user_id}")
        if session:
            p.spec.session = session
            p.session_cookie = session

    # --- check-ins -----------------------------------------------------------------------

    async def checkin_questions(self, p: Partner) -> bool:
        today = p.today()
        if p.checkin_questions and p.questions_date == today:
            return True
        result = await self.call(p, "checkins.questions", "GET", "/api/v1/checkins/questions")
        if result is None or result.status != 200:
            return False
        p.checkin_questions = [q["id"] for q in result.json()]
        p.questions_date = today
        return True

    async def checkin_put(self, p: Partner, twice: bool = False) -> None:
        if not await self.checkin_questions(p):
            return
        rng = p.rng
        private = rng.random() < 0.2
        chosen = rng.sample(p.checkin_questions, rng.randint(0, len(p.checkin_questions)))
        answers = {q: self.mark(p, "checkin_answer", private=private) for q in chosen}
        write = CheckinWrite(
            mood=rng.randint(1, 5),
            energy=rng.choice([None, 1, 2, 3, 4, 5]),
            visibility="private" if private else "shared",
            answers=answers,
        )
        if private:
            p.private_sent_at = time.monotonic()
        asked_on = p.questions_date

        def day_turned(status: int, text: str) -> bool:
            # The person's local day ended between reading today's questions and
            # sending: yesterday's questions are refused (400), as documented.
            return status == 400 and '"answers"' in text and p.today() != asked_on

        results = await self.send(
            p,
            twice,
            "checkins.put",
            "PUT",
            "/api/v1/checkins/today",
            body={
                "mood": write.mood,
                "energy": write.energy,
                "answers": [{"question_id": q, "text": t} for q, t in answers.items()],
                "visibility": write.visibility,
            },
            expect=(200, 201),
            allow=day_turned,
        )
        for result in results:
            if result is None or result.status >= 500:
                self.ledger.key(self.ledger.checkins, (p.user_id, asked_on)).maybe(write)
                continue
            if result.status == 400:
                p.checkin_questions = []
            if result.status not in (200, 201):
                continue
            got = result.json()
            stored = {a["question_id"]: a["text"] for a in got["answers"]}
            if (got["mood"], got["energy"], got["visibility"], stored) != (
                write.mood,
                write.energy,
                write.visibility,
                write.answers,
            ):
                self.ledger.fail(
                    f"checkins.put as user {p.user_id}: the response does not show what was "
                    f"written: sent {write}, got {got}"
                )
            self.ledger.key(self.ledger.checkins, (p.user_id, got["date"])).ack(
                write, created=result.status == 201
            )

    async def checkin_today(self, p: Partner) -> None:
        sent = time.monotonic()
        result = await self.call(p, "checkins.today", "GET", "/api/v1/checkins/today")
        if result is None or result.status != 200:
            return
        partner = result.json()["partner"]
        p.partner_checkin = (partner["id"], sent) if partner else None

    async def checkin_respond(self, p: Partner, twice: bool = False) -> None:
        if p.partner_checkin is None or p.rng.random() < 0.3:
            await self.checkin_today(p)
        if p.partner_checkin is None:
            return
        checkin_id, read_at = p.partner_checkin
        other = self.by_user[p.spec.partner_id]
        rng = p.rng
        reaction = rng.choice([*REACTIONS, ""])
        text = self.mark(p, "reply") if not reaction or rng.random() < 0.6 else ""
        body = {k: v for k, v in (("reaction", reaction), ("text", text)) if v}

        def turned_private(status: int, _: str) -> bool:
            # The partner made it private after I read it: not mine to see any more.
            return status == 404 and other.private_sent_at >= read_at

        results = await self.send(
            p,
            twice,
            "checkins.respond",
            "POST",
            f"/api/v1/checkins/{checkin_id}/responses",
            body=body,
            expect=(201,),
            allow=turned_private,
        )
        state = self.ledger.key(self.ledger.responses, (checkin_id, p.user_id))
        for result in results:
            if result is None or result.status >= 500:
                state.maybe((reaction, text))
            elif result.status == 201:
                state.ack((reaction, text))
            elif result.status == 404:
                p.partner_checkin = None

    async def history_api(self, p: Partner) -> None:
        today = datetime.fromisoformat(p.today())
        start = (today - timedelta(days=30)).date().isoformat()
        await self.call(
            p, "checkins.list", "GET", f"/api/v1/checkins?from={start}&to={today.date()}"
        )

    # --- the daily question ----------------------------------------------------------------

    async def question_today(self, p: Partner) -> None:
        result = await self.call(p, "questions.today", "GET", "/api/v1/questions/today")
        if result is None or result.status != 200:
            return
        got = result.json()
        p.question_id, p.question_state = got["id"], got["state"]
        if got["state"] != "revealed" and got["partner_answer"] is not None:
            self.ledger.leaks += 1
            self.ledger.fail(
                f"SEALED LEAK: questions.today as user {p.user_id}: state {got['state']} "
                f"with partner_answer {got['partner_answer']!r}"
            )

    async def question_answer(self, p: Partner, twice: bool = False) -> None:
        if p.question_id is None or p.rng.random() < 0.25:
            await self.question_today(p)
        if p.question_id is None:
            return
        if p.question_state == "revealed" and p.rng.random() < 0.7:
            return  # mostly people don't try once it's revealed; some do (409)
        question_id = p.question_id
        text = self.mark(p, "question_answer", question_id=question_id)
        results = await self.send(
            p,
            twice,
            "questions.answer",
            "POST",
            f"/api/v1/questions/{question_id}/answer",
            body={"text": text},
            expect=(200, 201, 409),
        )
        state = self.ledger.key(self.ledger.answers, (question_id, p.user_id))
        for result in results:
            if result is None or result.status >= 500:
                state.maybe(text)
            elif result.status == 409:
                p.question_state = "revealed"
            elif result.status in (200, 201):
                got = result.json()
                if got["my_answer"] != text:
                    self.ledger.fail(
                        f"questions.answer as user {p.user_id}: my_answer "
                        f"{got['my_answer']!r} is not what was sent ({text!r})"
                    )
                state.ack(text, created=result.status == 201)
                p.question_state = got["state"]

    async def question_react(self, p: Partner) -> None:
        if p.question_state != "revealed":
            await self.question_today(p)
        if p.question_state != "revealed" or p.question_id is None:
            return
        reaction = p.rng.choice(REACTIONS)
        question_id = p.question_id
        result = await self.call(
            p,
            "questions.react",
            "POST",
            f"/api/v1/questions/{question_id}/reactions",
            body={"reaction": reaction},
            expect=(201,),
        )
        state = self.ledger.key(self.ledger.question_reactions, (question_id, p.user_id))
        if result is None or result.status >= 500:
            state.maybe(reaction)
        elif result.status == 201:
            state.ack(reaction)

    async def question_list(self, p: Partner) -> None:
        await self.call(p, "questions.list", "GET", "/api/v1/questions")

    # --- love maps -------------------------------------------------------------------------

    async def lovemap_answer(self, p: Partner, twice: bool = False) -> None:
        topic = p.rng.choice(p.topics)
        text = self.mark(p, "lovemap_answer")
        results = await self.send(
            p,
            twice,
            "lovemap.answer",
            "PUT",
            f"/api/v1/lovemap/mine/{topic}",
            body={"answer": text},
        )
        state = self.ledger.key(self.ledger.lovemap, (p.user_id, topic))
        for result in results:
            if result is None or result.status >= 500:
                state.maybe(text)
            elif result.status == 200:
                # The same text twice is one version: the second only re-confirms it.
                if state.last != text:
                    state.ack(text)
                p.answered_topics.add(topic)
                if result.json()["answer"] != text:
                    self.ledger.fail(
                        f"lovemap.answer as user {p.user_id}: the response shows another text"
                    )

    async def lovemap_confirm(self, p: Partner) -> None:
        answered = [t for t in p.topics if (p.user_id, t) in self.ledger.lovemap]
        if not answered:
            return
        topic = p.rng.choice(answered)
        await self.call(p, "lovemap.confirm", "POST", f"/api/v1/lovemap/mine/{topic}/confirm")

    async def lovemap_partner(self, p: Partner) -> None:
        result = await self.call(p, "lovemap.partner", "GET", "/api/v1/lovemap/partner")
        if result and result.status == 200:
            p.partner_topics = [(row["topic"]["id"], row["status"]) for row in result.json()]

    async def lovemap_reveal(self, p: Partner) -> None:
        if not p.partner_topics or p.rng.random() < 0.3:
            await self.lovemap_partner(p)
        if not p.partner_topics:
            return
        fresh = [t for t, status in p.partner_topics if status != "current"]
        topic = p.rng.choice(fresh or [t for t, _ in p.partner_topics])
        guess = self.mark(p, "guess") if p.rng.random() < 0.7 else ""
        result = await self.call(
            p,
            "lovemap.reveal",
            "POST",
            f"/api/v1/lovemap/partner/{topic}/reveal",
            body={"guess": guess} if guess else {},
        )
        if result is None or result.status != 200:
            return
        got = result.json()
        if got["guess"]:
            self.ledger.reveals[got["guess"]["id"]] = (p.user_id, got["guess"]["guess"])
        p.partner_topics = [(t, "current" if t == topic else s) for t, s in p.partner_topics]

    async def lovemap_mine(self, p: Partner) -> None:
        result = await self.call(p, "lovemap.mine", "GET", "/api/v1/lovemap/mine")
        if result and result.status == 200:
            p.guesses_to_rate = [g["id"] for row in result.json() for g in row["guesses"]]

    async def lovemap_rate(self, p: Partner) -> None:
        if not p.guesses_to_rate or p.rng.random() < 0.3:
            await self.lovemap_mine(p)
        if not p.guesses_to_rate:
            return
        guess_id = p.rng.choice(p.guesses_to_rate)
        rating = p.rng.choice(RATINGS)
        result = await self.call(
            p,
            "lovemap.rate",
            "POST",
            f"/api/v1/lovemap/guesses/{guess_id}/rating",
            body={"rating": rating},
        )
        state = self.ledger.key(self.ledger.ratings, guess_id)
        if result is None or result.status >= 500:
            state.maybe(rating)
        elif result.status == 200:
            state.ack(rating)

    async def freshness(self, p: Partner) -> None:
        await self.call(p, "lovemap.freshness", "GET", "/api/v1/lovemap/freshness")

    # --- pages -----------------------------------------------------------------------------

    async def dashboard_api(self, p: Partner) -> None:
        await self.call(p, "dashboard.api", "GET", "/api/v1/dashboard")

    async def dashboard_html(self, p: Partner) -> None:
        await self.call(p, "page /", "GET", "/", html=True)

    async def history_html(self, p: Partner) -> None:
        await self.call(p, "page /history/", "GET", "/history/", html=True)

    async def question_html(self, p: Partner) -> None:
        await self.call(p, "page /question/", "GET", "/question/", html=True)

    async def lovemap_partner_html(self, p: Partner) -> None:
        await self.call(p, "page /lovemap/partner/", "GET", "/lovemap/partner/", html=True)
