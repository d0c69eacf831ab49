# django-storages/emulators: this project's FTP, SFTP and Dropbox emulators as standalone
# servers (`python -m emulators.serve ftp|sftp|dropbox --host H --port P`).
# Build context: the repository root (docker compose) or a copy of emulators/.
ARG BASE=python:3.12-slim
FROM ${BASE}
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check "pyftpdlib>=1.5.9" "paramiko>=3.4"
COPY emulators/ /opt/storages/emulators/
ENV PYTHONPATH=/opt/storages PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /tmp
ENTRYPOINT ["/opt/venv/bin/python", "-m", "emulators.serve"]
