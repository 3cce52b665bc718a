/* global document, fetch -- browser script: the workspace lint config targets Node */
// Landing page: shows this server's health and the configured sensors. Plain DOM, no framework,
// and no inline script so the Content-Security-Policy can stay `default-src 'self'`.
'use strict';

async function getJson(url) {
  const res = await fetch(url, { headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}

function showHealth(health) {
  const status = document.getElementById('status');
  status.textContent = '';
  const badge = document.createElement('span');
  badge.className = 'ok';
  badge.textContent = health.status;
  status.append(badge, ` — web-gui ${health.version}, up ${Math.round(health.uptimeS)} s`);
  document.getElementById('version').textContent = `callscope web-gui ${health.version}`;
}

function showSensors(sensors) {
  if (sensors.length === 0) {
    document.getElementById('no-sensors').hidden = false;
    return;
  }
  const table = document.getElementById('sensors');
  const body = table.querySelector('tbody');
  for (const sensor of sensors) {
    const row = document.createElement('tr');
    for (const value of [String(sensor.id), sensor.name, sensor.managerUrl]) {
      const cell = document.createElement('td');
      cell.textContent = value;
      row.append(cell);
    }
    body.append(row);
  }
  table.hidden = false;
}

function showError(err) {
  const status = document.getElementById('status');
  status.textContent = '';
  const badge = document.createElement('span');
  badge.className = 'bad';
  badge.textContent = 'unreachable';
  status.append(badge, ` — ${err.message}`);
}

getJson('/api/health').then(showHealth).catch(showError);
getJson('/api/sensors').then(showSensors).catch(showError);
