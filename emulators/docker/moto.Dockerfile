# A local stand-in for motoserver/moto:VERSION (same entry point and port), built where
# the registry cannot be reached: `python -m emulators.images build s3`.
ARG BASE=python:3.12-slim
FROM ${BASE}
ARG VERSION
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check "moto[s3,server]==${VERSION}"
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1
EXPOSE 5000
ENTRYPOINT ["moto_server", "-H", "0.0.0.0"]
