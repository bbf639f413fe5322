// Cloudflare Worker harness: GET /?build=simd|scalar runs the suite in this (fresh) worker.
import * as gc from "gradient-centralization";
import fixtures from "./fixtures.json";
import { runSuite } from "./suite.mjs";

export default {
  async fetch(request) {
    const build = new URL(request.url).searchParams.get("build");
    return Response.json(await runSuite(gc, fixtures, build));
  },
};
