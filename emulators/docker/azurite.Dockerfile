# A local stand-in for mcr.microsoft.com/azure-storage/azurite:VERSION: the Azurite that
# `npm ci` installed from package.json, on this machine's Node.js.
ARG BASE=debian:bookworm-slim
FROM ${BASE}
COPY node /usr/local/bin/node
COPY node_modules/ /opt/azurite/node_modules/
RUN printf '#!/bin/sh\nexec /usr/local/bin/node /opt/azurite/node_modules/azurite/dist/src/blob/main.js "$@"\n' \
      > /usr/local/bin/azurite-blob \
 && chmod 755 /usr/local/bin/azurite-blob
EXPOSE 10000
CMD ["azurite-blob", "--blobHost", "0.0.0.0"]
