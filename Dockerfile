# Nuzzle: one image for every process (gunicorn web, Celery worker, Celery beat, the
# one-shot migrate). docker-compose.yml picks the command; the default is gunicorn.
#
#   docker build -t nuzzle .
#   docker run --env-file .env -p 8000:8000 nuzzle
#
# All configuration comes from the environment at run time (see .env.example). No
# secret is baked into the image: the SECRET_KEY below exists only inside the
# collectstatic RUN step.

FROM python:3.11-slim

# DEBUG=0: fail closed. An image started without configuration refuses to run in
# debug mode, and settings.py then insists on a real SECRET_KEY. (Local hacking uses
# the laptop set-up, not this image.)
# WEB_CONCURRENCY: gunicorn's worker processes (gunicorn.conf.py: threaded workers, two
# threads each). Two per core: 4 suits the 2-core VM the benchmark measures
# (bench/web.py). Override per deployment.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DEBUG=0 \
    WEB_CONCURRENCY=4

WORKDIR /app

# The app runs as an unprivileged user; only var/ (runtime files) is writable by it.
RUN groupadd --system --gid 10001 nuzzle \
    && useradd --system --uid 10001 --gid nuzzle --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin nuzzle

# Dependencies first, so code changes don't reinstall them. Runtime dependencies only
# (no `.[dev]`), every version pinned by constraints.txt. `pyproject.toml` declares
# no packages: installing "." installs exactly the dependency tree.
COPY pyproject.toml constraints.txt ./
RUN pip install --no-cache-dir -c constraints.txt . \
    && rm -rf build nuzzle.egg-info

COPY . .

# Static files are collected (and compressed + hashed by WhiteNoise's manifest
# storage) at build time. DEBUG=0 makes settings.py demand a SECRET_KEY, so this
# step gets a throwaway one that lives only in this RUN's environment, never in an
# ENV layer. Afterwards var/ belongs to the app user, except the collected static
# files, which stay read-only for it.
RUN DEBUG=0 SECRET_KEY="build-only-collectstatic-key-not-used-at-runtime" \
       python manage.py collectstatic --noinput \
    && mkdir -p var/keys \
    && chown -R nuzzle:nuzzle var \
    && chown -R root:root var/static

USER nuzzle

EXPOSE 8000

# Liveness + database check against /healthz. The request carries the first
# ALLOWED_HOSTS entry as Host (anything else is a 400 DisallowedHost) and
# X-Forwarded-Proto: https, so that with HTTPS=1 SECURE_SSL_REDIRECT doesn't answer
# with a redirect (gunicorn trusts that header from 127.0.0.1 by default, and Django
# does too when SECURE_PROXY_SSL_HEADER=1). Redirects are not followed: a 3xx counts
# as unhealthy rather than probing some other server.
# Worker and beat containers share this image: docker-compose.yml overrides it there.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; h = (os.environ.get('ALLOWED_HOSTS') or 'localhost').split(',')[0].strip().lstrip('*.') or 'localhost'; r = u.Request('http://127.0.0.1:8000/healthz', headers={'Host': h, 'X-Forwarded-Proto': 'https'}); o = u.build_opener(type('NoRedirect', (u.HTTPRedirectHandler,), {'redirect_request': lambda *a: None})); o.open(r, timeout=4)"]

# Workers, preloading, recycling and heartbeat files on tmpfs: gunicorn.conf.py, which
# the web benchmark (bench/web.py) uses too. The address and the access log on stdout
# are repeated here so the command says where it listens and logs.
CMD ["gunicorn", "--config", "gunicorn.conf.py", "--bind", "0.0.0.0:8000", \
     "--access-logfile", "-", "nuzzle.wsgi:application"]
