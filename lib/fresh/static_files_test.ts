import assert from "node:assert/strict";
import {
  contentType,
  etagMatches,
  IMMUTABLE,
  lookupStaticFile,
  NO_CACHE,
  scanStaticDir,
  serveStaticFile,
} from "./static_files.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "fresh_static_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("[static] content types by extension, case-insensitive, with a fallback", () => {
  assert.equal(contentType("/a.css"), "text/css; charset=utf-8");
  assert.equal(contentType("/a.JS"), "text/javascript; charset=utf-8");
  assert.equal(contentType("/img/x.svg"), "image/svg+xml");
  assert.equal(contentType("/font.woff2"), "font/woff2");
  assert.equal(contentType("/site.webmanifest"), "application/manifest+json");
  assert.equal(contentType("/noext"), "application/octet-stream");
  assert.equal(contentType("/archive.tar.unknown"), "application/octet-stream");
});

Deno.test("[static] If-None-Match lists, weak tags and * match", () => {
  assert.equal(etagMatches(null, '"a"'), false);
  assert.equal(etagMatches('"a"', '"a"'), true);
  assert.equal(etagMatches('"b", W/"a"', '"a"'), true);
  assert.equal(etagMatches("*", '"a"'), true);
  assert.equal(etagMatches('"ab"', '"a"'), false);
});

Deno.test("[static] scan lists nested files by URL path with content-hash ETags", async () => {
  await withDir(async (dir) => {
    await Deno.mkdir(`${dir}/img/deep`, { recursive: true });
    await Deno.writeTextFile(`${dir}/a.css`, "a{}");
    await Deno.writeTextFile(`${dir}/b.css`, "a{}");
    await Deno.writeTextFile(`${dir}/img/deep/x y.txt`, "xy");
    const files = await scanStaticDir(dir);
    assert.deepEqual([...files.keys()], ["/a.css", "/b.css", "/img/deep/x y.txt"]);
    assert.equal(files.get("/a.css")!.etag, files.get("/b.css")!.etag, "same content, same tag");
    assert.notEqual(files.get("/a.css")!.etag, files.get("/img/deep/x y.txt")!.etag);
    assert.equal(lookupStaticFile(files, "/img/deep/x%20y.txt")?.path, "/img/deep/x y.txt");
    assert.equal(lookupStaticFile(files, "/%E0%A4%A"), undefined);
    assert.equal(lookupStaticFile(files, "/img/deep/../../a.css"), undefined);
  });
});

Deno.test("[static] a rescan reuses hashes of unchanged files and sees changes", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/a.txt`, "one");
    const first = await scanStaticDir(dir);
    const second = await scanStaticDir(dir, first);
    assert.equal(second.get("/a.txt"), first.get("/a.txt"), "unchanged entry reused");
    await Deno.writeTextFile(`${dir}/a.txt`, "three");
    await Deno.writeTextFile(`${dir}/b.txt`, "new");
    const third = await scanStaticDir(dir, second);
    assert.notEqual(third.get("/a.txt")!.etag, first.get("/a.txt")!.etag);
    assert.ok(third.has("/b.txt"));
  });
});

Deno.test("[static] a missing folder is empty", async () => {
  assert.equal((await scanStaticDir("/nonexistent/fresh/static")).size, 0);
});

Deno.test("[static] symlinked folders are not entered; symlinked files are listed", async () => {
  await withDir(async (dir) => {
    await Deno.mkdir(`${dir}/static`);
    await Deno.writeTextFile(`${dir}/shared.css`, "x{}");
    await Deno.symlink(dir, `${dir}/static/loop`);
    await Deno.symlink(`${dir}/shared.css`, `${dir}/static/linked.css`);
    const files = await scanStaticDir(`${dir}/static`);
    assert.deepEqual([...files.keys()], ["/linked.css"]);
  });
});

Deno.test("[static] responses: body, 304, HEAD and cache headers", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/a.css`, "body{}");
    const file = (await scanStaticDir(dir)).get("/a.css")!;
    const serve = (url: string, init?: RequestInit, dev = false) =>
      serveStaticFile(new Request(`http://x${url}`, init), file, { buildId: "b1", dev });
    const res = await serve("/a.css");
    assert.equal(await res.text(), "body{}");
    assert.equal(res.headers.get("content-length"), "6");
    assert.equal(res.headers.get("etag"), file.etag);
    assert.equal(res.headers.get("cache-control"), NO_CACHE);
    const cached = await serve("/a.css?__frsh_c=b1");
    await cached.body?.cancel();
    assert.equal(cached.headers.get("cache-control"), IMMUTABLE);
    const devCached = await serve("/a.css?__frsh_c=b1", undefined, true);
    await devCached.body?.cancel();
    assert.equal(devCached.headers.get("cache-control"), NO_CACHE);
    const notModified = await serve("/a.css", { headers: { "if-none-match": file.etag } });
    assert.equal(notModified.status, 304);
    assert.equal(notModified.body, null);
    const head = await serve("/a.css", { method: "HEAD" });
    assert.equal(head.body, null);
    assert.equal(head.headers.get("content-length"), "6");
  });
});
