import contextlib
import os
import pty
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.management import call_command

from checkins.models import Checkin, CheckinAnswer
from nuzzle.couples.models import Invite, Membership, User
from nuzzle.couples.scoping import couple_context
from nuzzle.dashboard.demo import DEMO_ANSWERS, DEMO_PASSWORD, DEMO_PEOPLE
from prompts.models import Prompt

pytestmark = pytest.mark.django_db


def demo_people() -> list[User]:
    return [User.objects.get(email=email) for email, _, _ in DEMO_PEOPLE]


def test_first_run_setup_is_idempotent_and_makes_a_demo_couple_with_history():
    call_command("nuzzle_setup")
    prompts, checkins = Prompt.objects.count(), Checkin.objects.count()
    answers, couple = CheckinAnswer.objects.count(), couple_context(demo_people()[0]).couple
    call_command("nuzzle_setup")
    assert (Prompt.objects.count(), Checkin.objects.count()) == (prompts, checkins)
    assert CheckinAnswer.objects.count() == answers
    sam = User.objects.get(email="sam@example.com")
    assert sam.check_password(DEMO_PASSWORD)
    assert couple_context(sam).partner.email == "alex@example.com"
    assert couple_context(sam).couple.created_at == couple.created_at
    assert checkins > 30


def test_setup_without_the_demo_creates_no_people():
    call_command("nuzzle_setup", "--no-demo")
    assert not User.objects.exists()
    assert Prompt.objects.exists()


def test_the_demo_couple_was_together_before_its_first_check_in():
    call_command("nuzzle_setup")
    people = demo_people()
    couple = couple_context(people[0]).couple
    zone = ZoneInfo(people[0].timezone)
    first_checkin = min(
        Checkin.objects.filter(author__in=people).values_list("local_date", flat=True)
    )

    def day(at):
        return at.astimezone(zone).date()

    assert day(couple.created_at) < first_checkin
    for membership in Membership.objects.filter(couple=couple):
        assert day(membership.user.date_joined) <= day(membership.joined_at)
        assert day(membership.joined_at) == day(couple.created_at)
    invite = Invite.objects.get(couple=couple)
    assert invite.created_at <= invite.accepted_at <= couple.created_at < invite.expires_at
    for checkin in Checkin.objects.filter(author__in=people):
        assert day(checkin.created_at) == checkin.local_date


def test_the_demo_check_ins_have_varied_energy():
    call_command("nuzzle_setup")
    given = []
    for person in demo_people():
        energies = list(Checkin.objects.filter(author=person).values_list("energy", flat=True))
        assert len({energy for energy in energies if energy is not None}) >= 3, energies
        given += energies
    assert None in given  # energy is optional, and sometimes left out


def test_every_demo_answer_was_written_for_the_question_it_answers():
    call_command("nuzzle_setup")
    sam, alex = demo_people()
    answers = CheckinAnswer.objects.filter(checkin__author__in=[sam, alex]).select_related(
        "prompt", "checkin"
    )
    assert answers.count() > 10
    for answer in answers:
        written = DEMO_ANSWERS[answer.prompt.key][0 if answer.checkin.author_id == sam.pk else 1]
        assert answer.text == written, (answer.prompt.text, answer.text)
    assert len({answer.prompt_id for answer in answers}) > 5  # not one question over and over


def test_the_demo_answers_name_only_check_in_questions_of_the_bundled_bank():
    with open(settings.BASE_DIR / "prompts" / "bank" / "checkin.toml", "rb") as bank:
        keys = {prompt["key"] for prompt in tomllib.load(bank)["prompt"]}
    assert set(DEMO_ANSWERS) <= keys


# --- `make run` stops cleanly on Ctrl+C ------------------------------------------------

REPO = Path(__file__).resolve().parent.parent
READY = (b"celery@", b" ready.", b"beat: Starting", b"Quit the server with")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def read_until(fd: int, done: Callable[[bytes], bool], seconds: float, seen: bytearray) -> bool:
    """Read the terminal's output into `seen` until `done(seen)` or the time is up; False
    if the time ran out (or the terminal closed first)."""
    deadline = time.monotonic() + seconds
    while not done(bytes(seen)):
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        ready, _, _ = select.select([fd], [], [], min(left, 0.5))
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: every process holding the terminal has gone
                return done(bytes(seen))
            if not chunk:
                return done(bytes(seen))
            seen.extend(chunk)
    return True


@pytest.mark.skipif(
    shutil.which("make") is None or not (REPO / ".venv" / "bin" / "honcho").exists(),
    reason="needs make and the project's .venv (make run runs .venv/bin/python)",
)
def test_ctrl_c_stops_make_run_cleanly(tmp_path):
    """`make run` in a terminal, on the embedded defaults (its own SQLite database, the
    file broker), then Ctrl+C once everything is up: every process stops by itself
    (nothing is SIGKILLed, nothing logs an error) and make exits 0.

    It uses the checkout's var/ (the file broker and beat's schedule live there): don't
    run it while a `make run` of the same checkout is up."""
    database = f"sqlite:///{tmp_path / 'run.sqlite3'}"
    env = {
        name: value
        for name, value in os.environ.items()
        # Not a sub-make of whatever runs the tests; the embedded broker, not Redis.
        if name not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "REDIS_URL"}
    }
    env.update(DATABASE_URL=database, TERM="dumb")
    # The tasks beat sends at start need the tables; the demo couple does not (-o setup).
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v0"],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
    )
    command = ["make", "--no-print-directory", "-o", "setup", "run", f"PORT={free_port()}"]

    pid, terminal = pty.fork()
    if pid == 0:  # the child: make, in a new session on the pseudo-terminal
        os.chdir(REPO)
        os.execvpe("make", command, env)  # noqa: S606  (make, from PATH, fixed arguments)
    output = bytearray()
    try:
        started = read_until(
            terminal, lambda seen: all(part in seen for part in READY), 120, output
        )
        assert started, output.decode(errors="replace")
        time.sleep(2)  # let the tasks beat sent at start be picked up
        os.write(terminal, b"\x03")  # Ctrl+C: SIGINT to the terminal's foreground job
        stopped_at = time.monotonic()
        read_until(terminal, lambda seen: False, 40, output)
        _, status = os.waitpid(pid, 0)
    finally:
        with contextlib.suppress(ProcessLookupError, ChildProcessError):
            if os.waitpid(pid, os.WNOHANG) == (0, 0):
                os.killpg(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
        os.close(terminal)

    text = output.decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert "SIGINT received" in text
    assert "SIGKILL" not in text, text
    assert "Interrupt" not in text, text
    assert not [line for line in text.splitlines() if "ERROR" in line], text
    assert "Nuzzle stopped." in text
    assert time.monotonic() - stopped_at < 30
