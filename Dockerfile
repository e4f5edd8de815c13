# bindflow worker / API / simulator image. The Temporal binaries are not needed inside it
# (they serve `bindflow dev` and the tests), so provisioning is skipped.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts
COPY . .
USER node
ENTRYPOINT ["node", "bin/bindflow.js"]
