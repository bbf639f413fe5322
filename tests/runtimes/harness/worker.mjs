// Cloudflare Worker harness: GET /?build=simd|scalar&loader=init|initSync runs the suite in this (fresh) worker.
import * as gc from "gradient-centralization";
import fixtures from "./fixtures.json";
import { runSuite } from "./suite.mjs";

export default {
  async fetch(request) {
    const { searchParams } = new URL(request.url);
    return Response.json(await runSuite(gc, fixtures, searchParams.get("build"), searchParams.get("loader")));
  },
};
