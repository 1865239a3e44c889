/** The one HTML page: the views are drawn by /assets/app.js from the JSON API (no inline script: CSP). */
export const SHELL = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>edge-agent console</title>
<link rel="stylesheet" href="/assets/style.css">
<script type="module" src="/assets/app.js"></script>
</head>
<body>
<header><strong>edge-agent</strong> security console
<nav id="nav" hidden>
<a href="#/fleet">Fleet</a><a href="#/map">Map</a><a href="#/alerts">Alerts</a><a href="#/incidents">Incidents</a>
<span id="who"></span><button id="logout" type="button">Log out</button>
</nav></header>
<main id="main"><p>Loading…</p></main>
<footer id="live" data-state="connecting">live: connecting</footer>
</body>
</html>
`;

export const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1b1f24; background: #f6f7f9; }
header { background: #1f2937; color: #fff; padding: 8px 16px; display: flex; gap: 24px; align-items: center; }
nav { display: flex; gap: 12px; align-items: center; flex: 1; }
nav a { color: #cfe3ff; text-decoration: none; } nav a:hover { text-decoration: underline; }
#who { margin-left: auto; color: #cbd5e1; }
main { padding: 16px; }
table { border-collapse: collapse; background: #fff; width: 100%; }
th, td { border-bottom: 1px solid #e5e7eb; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #eef1f5; }
.sev-critical { color: #fff; background: #7f1d1d; padding: 0 4px; } .sev-high { color: #fff; background: #b91c1c; padding: 0 4px; }
.sev-medium { background: #fbbf24; padding: 0 4px; } .sev-low { background: #d1fae5; padding: 0 4px; }
.online { color: #15803d; } .offline { color: #b91c1c; font-weight: bold; }
.overdue { color: #b91c1c; font-weight: bold; } .done { color: #15803d; }
form.login { max-width: 320px; display: grid; gap: 8px; background: #fff; padding: 16px; }
.error { color: #b91c1c; }
footer { position: fixed; bottom: 0; right: 0; padding: 4px 8px; font-size: 12px; background: #e5e7eb; }
footer[data-state="open"] { background: #d1fae5; }
svg { background: #eef6ff; border: 1px solid #cbd5e1; }
`;
