"""The stylesheet of the server's HTML pages, inlined into every page.

Inline because the pages must work with no other request: the server may be reached through a port-forward
at 3 AM, and a page that waits for (or leaks to) a CDN is a page that does not load. Colours come in a light
and a dark set chosen by `prefers-color-scheme`; every text colour keeps a contrast of at least 4.5:1 on its
background (WCAG AA), and severity is never shown by colour alone (the word is always written too).
"""

from __future__ import annotations

CSS = """
:root {
  color-scheme: light dark;
  --bg: #f7f7f8; --panel: #ffffff; --fg: #16181d; --muted: #4a4f5a; --line: #c9ccd3; --link: #0b57d0;
  --code-bg: #eef0f3;
  --crit: #a4161a; --crit-bg: #fde8e8; --warn: #8a4b00; --warn-bg: #fff1d6; --info: #0b4f9c;
  --info-bg: #e4efff;
  --ok: #1b6b2f; --ok-bg: #e3f4e6; --idle: #454b55; --idle-bg: #e8eaee; --run: #5a2ca0; --run-bg: #efe7fb;
  --arrow: #5b606b;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #111317; --panel: #1a1d23; --fg: #e8eaed; --muted: #aeb4be; --line: #3a3f48; --link: #8ab4f8;
    --code-bg: #23272f;
    --crit: #ffb3ae; --crit-bg: #4a1618; --warn: #ffd08a; --warn-bg: #44300d; --info: #a8c8ff;
    --info-bg: #15305a;
    --ok: #9be0a8; --ok-bg: #173b21; --idle: #c9ced6; --idle-bg: #2c3038; --run: #d7c2ff; --run-bg: #35245a;
    --arrow: #aeb4be;
  }
}
* { box-sizing: border-box; }
html { font-size: 16px; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 1rem/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif; }
a { color: var(--link); }
a:focus-visible, summary:focus-visible, button:focus-visible, input:focus-visible {
  outline: 3px solid var(--link); outline-offset: 2px; }
code, pre, .mono {
  font-family: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, monospace;
  font-size: 0.875rem; }
header.top { background: var(--panel); border-bottom: 1px solid var(--line); }
header.top .wrap { display: flex; gap: 1rem; align-items: center; padding-top: .6rem; padding-bottom: .6rem; }
header.top .brand { font-weight: 700; text-decoration: none; color: var(--fg); white-space: nowrap; }
header.top .where { color: var(--muted); min-width: 0; overflow: hidden; text-overflow: ellipsis;
  white-space: nowrap; }
header.top form.signout { margin: 0 0 0 auto; flex-shrink: 0; }
header.top form.signout button { font: inherit; font-size: .9rem; padding: .2rem .8rem; border-radius: 6px;
  border: 1px solid var(--line); background: var(--bg); color: var(--link); cursor: pointer;
  white-space: nowrap; }
.wrap { max-width: 1200px; margin: 0 auto; padding: 0 1rem; }
main.wrap { padding-top: 1rem; padding-bottom: 3rem; }
h1 { font-size: 1.5rem; line-height: 1.25; margin: .5rem 0 .75rem; overflow-wrap: anywhere; }
h2 { font-size: 1.2rem; margin: 2rem 0 .6rem; padding-bottom: .25rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.05rem; margin: 1.2rem 0 .4rem; }
p { margin: .4rem 0; }
.muted { color: var(--muted); }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 1rem; }
.badge { display: inline-block; padding: .05rem .5rem; border-radius: 999px; font-size: .8rem;
  font-weight: 700;
  letter-spacing: .02em; border: 1px solid currentColor; white-space: nowrap; text-transform: uppercase; }
.sev-critical { color: var(--crit); background: var(--crit-bg); }
.sev-warning { color: var(--warn); background: var(--warn-bg); }
.sev-info { color: var(--info); background: var(--info-bg); }
.sev-none { color: var(--idle); background: var(--idle-bg); }
.st-queued { color: var(--idle); background: var(--idle-bg); }
.st-running { color: var(--run); background: var(--run-bg); }
.st-done { color: var(--info); background: var(--info-bg); }
.st-failed { color: var(--crit); background: var(--crit-bg); }
.st-resolved { color: var(--ok); background: var(--ok-bg); }
.safety-read-only { color: var(--ok); background: var(--ok-bg); }
.safety-mutating { color: var(--warn); background: var(--warn-bg); }
.safety-destructive { color: var(--crit); background: var(--crit-bg); }
.safety-unknown { color: var(--run); background: var(--run-bg); }
.filters { display: flex; flex-wrap: wrap; gap: .4rem; margin: .5rem 0 1rem; padding: 0; list-style: none; }
.filters a { display: inline-block; padding: .25rem .75rem; border: 1px solid var(--line);
  border-radius: 999px;
  text-decoration: none; background: var(--panel); }
.filters a[aria-current="page"] { background: var(--fg); color: var(--bg); border-color: var(--fg);
  font-weight: 700; }
table { width: 100%; border-collapse: collapse; background: var(--panel); border: 1px solid var(--line); }
th, td { text-align: left; vertical-align: top; padding: .5rem .6rem; border-bottom: 1px solid var(--line); }
th { font-size: .85rem; color: var(--muted); font-weight: 600; background: var(--code-bg); }
td.summary { overflow-wrap: anywhere; }
td.when { white-space: nowrap; font-variant-numeric: tabular-nums; font-size: .875rem; }
td .created { display: block; font-size: .8rem; }
/* the list: the summary (the diagnosis in one sentence) gets the room, the other columns their content */
table.investigations { table-layout: fixed; }
table.investigations th.state { width: 7.5rem; }
table.investigations th.what { width: 17rem; }
table.investigations th.when { width: 14.5rem; }
table.investigations td.state .badge { margin: 0 .2rem .25rem 0; }
table.investigations td.what { overflow-wrap: anywhere; }
table.investigations td.what .name { font-weight: 600; }
table.investigations td.what .scope, table.investigations td.what .id,
table.investigations td.what .cluster { display: block; }
table.investigations td.what .id { font-size: .8rem; }
.nowrap { white-space: nowrap; }
p.count { margin: .25rem 0 .5rem; }
.empty { padding: 2rem 1rem; text-align: center; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; margin: 0; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; overflow-wrap: anywhere; }
@media (min-width: 980px) { .facts.wide { grid-template-columns: max-content 1fr max-content 1fr; } }
.summary-line { font-size: 1.1rem; font-weight: 600; margin: .75rem 0; padding: .75rem 1rem;
  border-left: 6px solid var(--line);
  background: var(--panel); border-radius: 4px; overflow-wrap: anywhere; }
.summary-line.sev-critical { border-left-color: var(--crit); }
.summary-line.sev-warning { border-left-color: var(--warn); }
.summary-line.sev-info { border-left-color: var(--info); }
.summary-line { color: var(--fg); }
.banner { padding: .75rem 1rem; border-radius: 6px; border: 1px solid currentColor; margin: .75rem 0; }
.banner strong { display: block; }
.banner pre { color: var(--fg); }
ol.chain { list-style: none; margin: .5rem 0; padding: 0; max-width: 60rem; }
ol.chain > li + li::before { content: "↓ causes"; display: block; padding: .35rem 0 .35rem 1.25rem;
  color: var(--muted); font-style: italic; }
ol.chain .box { border: 2px solid var(--line); border-radius: 10px; padding: .6rem .9rem;
  background: var(--panel); overflow-wrap: anywhere; }
ol.chain .box.sev-critical { background: var(--crit-bg); border-color: var(--crit); }
ol.chain .box.sev-warning { background: var(--warn-bg); border-color: var(--warn); }
ol.chain .box.sev-info { background: var(--info-bg); border-color: var(--info); }
ol.chain .root .box { border-width: 4px; }
ol.chain .head { display: flex; flex-wrap: wrap; gap: .3rem .5rem; align-items: center; }
ol.chain .role { font-weight: 700; font-size: .85rem; letter-spacing: .04em; text-transform: uppercase; }
ol.chain code.code { font-weight: 700; font-size: 1rem; }
ol.chain .obj { display: block; margin-top: .25rem; }
ol.chain .title { margin: .3rem 0 0; color: var(--fg); }
ol.chain .more { margin: .4rem 0 0; }
ol.chain details.more > summary { cursor: pointer; color: var(--link); }
ul.evidence { list-style: none; margin: .4rem 0; padding: .5rem .75rem; background: var(--code-bg);
  border-radius: 6px;
  border: 1px solid var(--line); }
ul.evidence li { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .85rem;
  white-space: pre-wrap; overflow-wrap: anywhere; padding: .15rem 0; border-bottom: 1px dashed var(--line); }
ul.evidence li:last-child { border-bottom: 0; }
ol.steps { padding-left: 1.6rem; }
ol.hops { padding-left: 1.6rem; }
ol.hops li { margin: .3rem 0; }
ol.steps li { margin: .6rem 0; }
ol.steps li.destructive { border-left: 5px solid var(--crit); padding-left: .6rem; }
ol.steps li.mutating { border-left: 5px solid var(--warn); padding-left: .6rem; }
pre.cmd { margin: .3rem 0 0; padding: .5rem .75rem; background: var(--code-bg); border: 1px solid var(--line);
  border-radius: 6px; white-space: pre-wrap; overflow-wrap: anywhere; }
.safety-note { font-size: .9rem; margin-left: .4rem; }
details.finding { background: var(--panel); border: 1px solid var(--line); border-radius: 6px;
  margin: .4rem 0;
  padding: .4rem .75rem; }
details.finding > summary { cursor: pointer; overflow-wrap: anywhere; }
details.finding[open] > summary { margin-bottom: .4rem; }
.labels { display: flex; flex-wrap: wrap; gap: .3rem; margin: 0; padding: 0; list-style: none; }
.labels li { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .8rem;
  background: var(--code-bg); border: 1px solid var(--line); border-radius: 4px; padding: .05rem .4rem;
  overflow-wrap: anywhere; }
.annotations dd { white-space: pre-wrap; }
.alert-card { margin: .6rem 0; }
ul.links { display: flex; flex-wrap: wrap; gap: .3rem 1rem; margin: .2rem 0 .5rem; padding: 0; list-style: none; }
ul.links a { font-weight: 600; }
.alert-card h3 { margin-top: 0; }
form.login { max-width: 28rem; margin: 3rem auto; }
form.login label { display: block; font-weight: 600; margin-bottom: .3rem; }
form.login input { width: 100%; font: inherit; padding: .5rem .6rem; border: 1px solid var(--line);
  border-radius: 6px;
  background: var(--bg); color: var(--fg); }
form.login button { margin-top: .8rem; font: inherit; font-weight: 700; padding: .5rem 1.2rem;
  border-radius: 6px;
  border: 1px solid var(--link); background: var(--link); color: var(--panel); cursor: pointer; }
.pager { display: flex; gap: 1rem; margin: .75rem 0; }
@media (max-width: 760px) {
  html { font-size: 15px; }
  /* the list stacks: one card per investigation, badges and name first, the summary under them */
  table.investigations, table.investigations tbody, table.investigations tr, table.investigations td {
    display: block; width: 100%; }
  table.investigations thead { position: absolute; width: 1px; height: 1px; overflow: hidden;
    clip: rect(0 0 0 0); }
  table.investigations tr { border-bottom: 2px solid var(--line); padding: .5rem 0; }
  table.investigations td { border: 0; padding: .15rem .75rem; }
  table.investigations td.when { white-space: normal; }
}
"""
