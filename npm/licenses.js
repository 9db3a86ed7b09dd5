// The licenses of the crates compiled into the binary of one target, as the text of the file
// THIRD-PARTY-LICENSES.txt that every platform package carries beside the binary. Made from
// Cargo.lock by cargo itself, so that it names exactly what was built and nothing is listed by hand:
//
// - which crates: `cargo tree --locked -e normal --target TRIPLE`, the normal dependencies of the
//   `vercel-oidc` binary on that target with its default features (the build's own features, as
//   resolver 2 settles them; build scripts' dependencies and dev-dependencies are left out, since
//   none of their code is in the binary);
// - each crate's declared license, repository and folder: `cargo metadata --locked`;
// - the texts: the files each crate ships whose names start with LICENSE, LICENCE, COPYING,
//   COPYRIGHT or NOTICE, each distinct text once, with the crates that ship it.
//
// It reads the crates' sources from cargo's registry, as the build does (on the runner that built
// the binary they are there; elsewhere cargo downloads them). The output depends only on Cargo.lock
// and those sources: no path of this machine, no date.
"use strict";

const { execFileSync } = require("child_process");
const fs = require("fs");
const path = require("path");

const ROOT = path.resolve(__dirname, "..");
const NOTICE_FILE = /^(licen[cs]e|copying|copyright|notice)/i;

function cargo(args) {
  return execFileSync("cargo", args, {
    cwd: ROOT,
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
    stdio: ["ignore", "pipe", "inherit"],
  });
}

/** [{name, version, license, repository, dir}] of the crates in the binary for `triple`, by name. */
function crates(triple) {
  const tree = cargo(["tree", "--locked", "-e", "normal", "--target", triple, "--prefix", "none", "--format", "{p}"]);
  const wanted = new Set();
  for (const line of tree.split("\n")) {
    const match = line.match(/^(\S+) v(\S+)/);
    if (match) wanted.add(`${match[1]} ${match[2]}`);
  }
  const metadata = JSON.parse(cargo(["metadata", "--locked", "--format-version", "1", "--filter-platform", triple]));
  const root = metadata.resolve.root;
  return metadata.packages
    .filter((p) => p.id !== root && wanted.has(`${p.name} ${p.version}`))
    .map((p) => ({
      name: p.name,
      version: p.version,
      license: p.license || (p.license_file ? `see ${p.license_file}` : "none declared"),
      repository: p.repository || "",
      dir: path.dirname(p.manifest_path),
    }))
    .sort((a, b) => (a.name === b.name ? a.version.localeCompare(b.version) : a.name < b.name ? -1 : 1));
}

/** The text of THIRD-PARTY-LICENSES.txt for the binary of `triple`. */
function thirdPartyLicenses(triple) {
  const list = crates(triple);
  const texts = new Map(); // normalised text -> [crate file, ...]
  const bare = [];
  for (const c of list) {
    const files = fs.readdirSync(c.dir).filter((f) => NOTICE_FILE.test(f) && fs.statSync(path.join(c.dir, f)).isFile()).sort();
    if (!files.length) bare.push(c);
    for (const f of files) {
      const text = fs.readFileSync(path.join(c.dir, f), "utf8").replace(/\r\n/g, "\n").replace(/[ \t]+$/gm, "").trim();
      if (!texts.has(text)) texts.set(text, []);
      texts.get(text).push(`${c.name} ${c.version} (${f})`);
    }
  }
  const width = Math.max(...list.map((c) => `${c.name} ${c.version}`.length));
  const licenseWidth = Math.max(...list.map((c) => c.license.length));
  const out = [
    `Third-party software in the vercel-oidc binary for ${triple}`,
    "",
    "vercel-oidc itself is under MIT OR Apache-2.0 (LICENSE-MIT and LICENSE-APACHE beside this file).",
    `Its binary also holds the code of the ${list.length} crates below, at the versions Cargo.lock pins: the`,
    "normal dependencies of the binary on this target (`cargo tree -e normal`), with the license each",
    "declares, then every license and notice file they ship. Generated from Cargo.lock by",
    "npm/licenses.js when the package was made; not edited by hand.",
    "",
  ];
  for (const c of list) {
    out.push(`${`${c.name} ${c.version}`.padEnd(width)}  ${c.license.padEnd(licenseWidth)}  ${c.repository}`.trimEnd());
  }
  for (const [text, owners] of texts) {
    out.push("", "-".repeat(100), `Shipped by: ${owners.join(", ")}`, "", text);
  }
  if (bare.length) {
    out.push("", "-".repeat(100), `No license file in the crate (its declared license applies): ${bare.map((c) => `${c.name} ${c.version}`).join(", ")}`);
  }
  return out.join("\n") + "\n";
}

module.exports = { thirdPartyLicenses };

if (require.main === module) {
  if (process.argv.length !== 3) {
    process.stderr.write("usage: node npm/licenses.js TRIPLE\n");
    process.exit(2);
  }
  process.stdout.write(thirdPartyLicenses(process.argv[2]));
}
