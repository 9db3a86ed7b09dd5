#!/usr/bin/env node
// Makes the npm packages as `npm pack` tarballs, with the version of Cargo.toml stamped into each:
//
//   node npm/pack.js main OUTDIR                     the main package `vercel-oidc` (the launcher),
//                                                    whose optionalDependencies are every package of
//                                                    npm/platforms.json at the same version
//   node npm/pack.js platform TRIPLE BINARY OUTDIR   the package of that target (npm/platforms.json)
//                                                    holding BINARY as bin/vercel-oidc
//   node npm/pack.js check DIR                       before publishing: DIR holds exactly the main
//                                                    tarball and one of every platform, all of
//                                                    Cargo.toml's version and repository, each with
//                                                    the license files; prints their absolute paths,
//                                                    platforms first (the order to publish them in)
//
// Every package gets Cargo.toml's `repository` (npm's provenance checks it against the repository
// that publishes) and the license files LICENSE-MIT and LICENSE-APACHE; each platform package also
// THIRD-PARTY-LICENSES.txt, the licenses of the crates in its binary (npm/licenses.js, from
// Cargo.lock).
//
// Each writes one tarball into OUTDIR (created when missing; nothing else is written there) and
// prints its path on stdout. The packages are put together in a temporary folder, removed at the
// end. The platform step checks that BINARY is an executable of that target (and, for Linux, that
// it asks for no dynamic loader), and when it can run here, that it prints this version. It is
// what scripts/npm-platform-package.sh runs, here and in the release workflow on every platform.
"use strict";

const { execFileSync } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");

const { thirdPartyLicenses } = require("./licenses");

const ROOT = path.resolve(__dirname, "..");
const PLATFORMS = require("./platforms.json");
const LICENSES = ["LICENSE-MIT", "LICENSE-APACHE"];

function die(message) {
  process.stderr.write(`error: ${message}\n`);
  process.exit(1);
}

/** A `key = "value"` of Cargo.toml's `[package]` section. */
function cargoPackageField(key) {
  const text = fs.readFileSync(path.join(ROOT, "Cargo.toml"), "utf8");
  const section = text.split(/^\[/m).find((s) => s.startsWith("package]"));
  const match = section && section.match(new RegExp(`^${key}\\s*=\\s*"([^"]+)"\\s*$`, "m"));
  if (!match) die(`no ${key} in the [package] section of Cargo.toml`);
  return match[1];
}

/** The `[package]` version of Cargo.toml: the one version of every package. */
function cargoVersion() {
  return cargoPackageField("version");
}

/** Cargo.toml's `repository` (https://github.com/OWNER/NAME) as npm's `repository` field. */
function npmRepository() {
  const url = cargoPackageField("repository");
  if (!/^https:\/\/github\.com\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(url)) {
    die(`Cargo.toml's repository \`${url}\` is not https://github.com/OWNER/NAME: npm's provenance needs the GitHub repository`);
  }
  return { type: "git", url: `git+${url}.git` };
}

/** Copies the license files of the repository into a package being made. */
function copyLicenses(stage) {
  for (const file of LICENSES) fs.copyFileSync(path.join(ROOT, file), path.join(stage, file));
}

/** Runs `fill(stage)` on an empty temporary folder, packs it into outDir, returns the tarball. */
function pack(outDir, fill) {
  fs.mkdirSync(outDir, { recursive: true });
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), "vercel-oidc-pack-"));
  try {
    fill(stage);
    const out = execFileSync(
      "npm",
      ["pack", "--json", "--ignore-scripts", "--loglevel=error", "--pack-destination", path.resolve(outDir)],
      { cwd: stage, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
    );
    return path.join(path.resolve(outDir), JSON.parse(out)[0].filename);
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}

function writeJson(file, value) {
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + "\n");
}

function packMain(outDir) {
  const version = cargoVersion();
  const source = path.join(__dirname, "vercel-oidc");
  const manifest = JSON.parse(fs.readFileSync(path.join(source, "package.json"), "utf8"));
  manifest.version = version;
  manifest.repository = npmRepository();
  manifest.files = ["bin/vercel-oidc", "README.md", ...LICENSES];
  manifest.optionalDependencies = Object.fromEntries(PLATFORMS.map((p) => [p.package, version]));
  return pack(outDir, (stage) => {
    writeJson(path.join(stage, "package.json"), manifest);
    fs.copyFileSync(path.join(source, "README.md"), path.join(stage, "README.md"));
    copyLicenses(stage);
    fs.mkdirSync(path.join(stage, "bin"));
    fs.copyFileSync(path.join(source, "bin", "vercel-oidc"), path.join(stage, "bin", "vercel-oidc"));
    fs.chmodSync(path.join(stage, "bin", "vercel-oidc"), 0o755);
  });
}

// What the first bytes of an executable of each target look like.
const ELF_MACHINE = { x64: 0x3e, arm64: 0xb7 };
const MACHO_CPU = { x64: 0x01000007, arm64: 0x0100000c };

/** Why `file` is not a binary for `platform`, or null when it is one. */
function binaryProblem(file, platform) {
  const bytes = fs.readFileSync(file);
  if (platform.os === "linux") {
    if (bytes.length < 64 || bytes.readUInt32BE(0) !== 0x7f454c46) return "it is not an ELF executable";
    if (bytes[4] !== 2 || bytes[5] !== 1) return "it is not a 64-bit little-endian ELF file";
    if (bytes.readUInt16LE(18) !== ELF_MACHINE[platform.cpu]) return `it is not built for ${platform.cpu}`;
    const phoff = Number(bytes.readBigUInt64LE(32));
    const phentsize = bytes.readUInt16LE(54);
    for (let i = 0; i < bytes.readUInt16LE(56); i++) {
      if (bytes.readUInt32LE(phoff + i * phentsize) === 3) return "it asks for a dynamic loader (PT_INTERP): it is not static";
    }
    return null;
  }
  if (bytes.length < 8 || bytes.readUInt32LE(0) !== 0xfeedfacf) return "it is not a 64-bit Mach-O executable";
  if (bytes.readUInt32LE(4) !== MACHO_CPU[platform.cpu]) return `it is not built for ${platform.cpu}`;
  return null;
}

function packPlatform(triple, binary, outDir) {
  const platform = PLATFORMS.find((p) => p.triple === triple);
  if (!platform) die(`\`${triple}\` is not in npm/platforms.json (${PLATFORMS.map((p) => p.triple).join(", ")})`);
  if (!fs.statSync(binary, { throwIfNoEntry: false })?.isFile()) die(`\`${binary}\` is not a file`);
  const problem = binaryProblem(binary, platform);
  if (problem) die(`\`${binary}\` cannot go into ${platform.package}: ${problem}`);
  const version = cargoVersion();
  if (platform.os === process.platform && platform.cpu === process.arch) {
    const printed = execFileSync(binary, ["--version"], { encoding: "utf8" }).trim();
    if (printed !== `vercel-oidc ${version}`) {
      die(`\`${binary} --version\` printed \`${printed}\`, but Cargo.toml says ${version}: rebuild it`);
    }
  }
  const manifest = {
    name: platform.package,
    version,
    description: `The vercel-oidc binary for ${platform.description}; installed by the vercel-oidc package`,
    license: "MIT OR Apache-2.0",
    repository: npmRepository(),
    os: [platform.os],
    cpu: [platform.cpu],
    files: ["bin/vercel-oidc", "README.md", ...LICENSES, "THIRD-PARTY-LICENSES.txt"],
    preferUnplugged: true,
  };
  const readme =
    `# ${platform.package}\n\n` +
    `The \`vercel-oidc\` binary for ${platform.description} (Rust target \`${triple}\`).\n\n` +
    "Do not install it directly: install `vercel-oidc`, which lists this package as an optional\n" +
    "dependency, so that npm installs it only where it runs, and whose `vercel-oidc` command runs it.\n\n" +
    "vercel-oidc is under MIT OR Apache-2.0 (LICENSE-MIT, LICENSE-APACHE); the licenses of the crates\n" +
    "compiled into the binary are in THIRD-PARTY-LICENSES.txt.\n";
  return pack(outDir, (stage) => {
    writeJson(path.join(stage, "package.json"), manifest);
    fs.writeFileSync(path.join(stage, "README.md"), readme);
    copyLicenses(stage);
    fs.writeFileSync(path.join(stage, "THIRD-PARTY-LICENSES.txt"), thirdPartyLicenses(triple));
    fs.mkdirSync(path.join(stage, "bin"));
    fs.copyFileSync(binary, path.join(stage, "bin", "vercel-oidc"));
    fs.chmodSync(path.join(stage, "bin", "vercel-oidc"), 0o755);
  });
}

/** The tarballs of a release in DIR, platforms first and the main package last, checked, as
 * absolute paths: `npm publish dist/x.tgz` would read `dist/x.tgz` as a GitHub repository. */
function checkRelease(dir) {
  const version = cargoVersion();
  const repository = npmRepository();
  const names = ["vercel-oidc", ...PLATFORMS.map((p) => p.package)];
  const found = new Map();
  for (const file of fs.readdirSync(dir).sort()) {
    const tarball = path.join(dir, file);
    const members = execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" }).split("\n");
    const manifest = JSON.parse(execFileSync("tar", ["-xzOf", tarball, "package/package.json"], { encoding: "utf8" }));
    if (!names.includes(manifest.name)) die(`\`${file}\` is \`${manifest.name}\`, which is not one of ours`);
    if (found.has(manifest.name)) die(`two tarballs of \`${manifest.name}\`: ${found.get(manifest.name)} and ${file}`);
    if (manifest.version !== version) die(`\`${file}\` is version ${manifest.version}, Cargo.toml says ${version}`);
    if (JSON.stringify(manifest.repository) !== JSON.stringify(repository)) {
      die(`\`${file}\` names the repository ${JSON.stringify(manifest.repository)}, Cargo.toml ${repository.url}: pack it again`);
    }
    const wanted = manifest.name === names[0] ? LICENSES : [...LICENSES, "THIRD-PARTY-LICENSES.txt"];
    const absent = wanted.filter((f) => !members.includes(`package/${f}`));
    if (absent.length) die(`\`${file}\` lacks ${absent.join(", ")}: pack it again with npm/pack.js`);
    found.set(manifest.name, path.resolve(tarball));
  }
  const missing = names.filter((n) => !found.has(n));
  if (missing.length) die(`no tarball of ${missing.map((n) => `\`${n}\``).join(", ")} in \`${dir}\``);
  return [...names.slice(1), names[0]].map((n) => found.get(n)).join("\n");
}

function main(argv) {
  const [what, ...rest] = argv;
  if (what === "main" && rest.length === 1) return packMain(rest[0]);
  if (what === "platform" && rest.length === 3) return packPlatform(...rest);
  if (what === "check" && rest.length === 1) return checkRelease(rest[0]);
  die("usage: node npm/pack.js main OUTDIR | platform TRIPLE BINARY OUTDIR | check DIR");
}

process.stdout.write(main(process.argv.slice(2)) + "\n");
