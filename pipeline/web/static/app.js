// Budget Lens workbench: uploads with progress, the page viewer with evidence outlined,
// filters and verdicts. Plain JavaScript, no external assets (the page works offline).
(() => {
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || '';
  const post = (url, body) => fetch(url, {
    method: 'POST', body, headers: {'X-CSRF-Token': csrf, 'Accept': 'application/json'},
  });

  // -- reviewer name, kept in this browser ---------------------------------------------------
  const reviewer = document.getElementById('reviewer');
  if (reviewer) {
    reviewer.value = localStorage.getItem('budget-lens-reviewer') || '';
    reviewer.addEventListener('input', () => localStorage.setItem('budget-lens-reviewer', reviewer.value.trim()));
  }

  // -- uploads: one request per file, so a bad or oversized file fails alone ----------------
  const form = document.getElementById('upload');
  const list = document.getElementById('uploads');
  const errors = document.getElementById('upload-errors');
  const mine = [];
  let polling = null;

  async function refresh() {
    const r = await fetch(list.dataset.src + '?ids=' + mine.join(','));
    if (!r.ok) return;
    list.innerHTML = await r.text();
    const waiting = list.querySelector('.uploads')?.dataset.waiting === 'yes';
    if (!waiting && polling) { clearInterval(polling); polling = null; }
    if (waiting && !polling) polling = setInterval(refresh, 1000);
  }

  function refused(name, reason) {
    const p = document.createElement('p');
    p.className = 'notice bad rejected';
    p.textContent = `${name}：${reason}`;
    errors.appendChild(p);
  }

  async function upload(files) {
    errors.innerHTML = '';
    for (const file of files) {
      const body = new FormData();
      body.append('files', file, file.name);
      let r;
      try { r = await post('/upload', body); } catch (e) { refused(file.name, '上传失败：无法连接服务器'); continue; }
      const data = await r.json().catch(() => ({}));
      if (!r.ok) { refused(file.name, data.detail || `上传失败（${r.status}）`); continue; }
      for (const f of data.files) mine.push(f.id);
      await refresh();
    }
  }

  if (form) {
    const input = document.getElementById('files');
    input.addEventListener('change', () => { upload([...input.files]); input.value = ''; });
    ['dragenter', 'dragover'].forEach(t => form.addEventListener(t, e => { e.preventDefault(); form.classList.add('over'); }));
    ['dragleave', 'drop'].forEach(t => form.addEventListener(t, () => form.classList.remove('over')));
    form.addEventListener('drop', e => { e.preventDefault(); upload([...e.dataTransfer.files]); });
    form.addEventListener('submit', e => { e.preventDefault(); upload([...input.files]); });
    if (list.querySelector('.uploads')?.dataset.waiting === 'yes') polling = setInterval(refresh, 1000);
  }

  // -- a report being checked: reload when it is done ----------------------------------------
  const head = document.querySelector('.report-head');
  if (head && ['queued', 'running'].includes(head.dataset.status)) {
    const timer = setInterval(async () => {
      const r = await fetch(`/doc/${head.dataset.doc}/status`, {headers: {'Accept': 'application/json'}});
      if (!r.ok) return;
      const state = await r.json();
      if (state.done) { clearInterval(timer); location.reload(); return; }
      const shown = document.getElementById('progress');
      if (shown) shown.innerHTML = state.progress;
    }, 1000);
  }

  // -- filters -------------------------------------------------------------------------------
  const findings = [...document.querySelectorAll('.finding')];
  const sevBoxes = [...document.querySelectorAll('.filter input[type=checkbox]')];
  const sectionSel = document.querySelector('.section-filter');
  const verdictSel = document.querySelector('.verdict-filter');
  function applyFilters() {
    const sevs = new Set(sevBoxes.filter(b => b.checked).map(b => b.value));
    for (const el of findings) {
      const sev = [...el.classList].find(c => ['error', 'warning', 'info'].includes(c));
      const show = sevs.has(sev)
        && (!sectionSel || !sectionSel.value || el.dataset.section === sectionSel.value)
        && (!verdictSel || !verdictSel.value || el.dataset.verdict === verdictSel.value);
      el.hidden = !show;
    }
    document.querySelectorAll('.section-group, .sev-group').forEach(g => {
      g.hidden = !g.querySelector('.finding:not([hidden])');
    });
  }
  [...sevBoxes, sectionSel, verdictSel].forEach(el => el && el.addEventListener('change', applyFilters));

  // -- the page viewer -----------------------------------------------------------------------
  const viewer = document.getElementById('viewer');
  const img = document.getElementById('page-img');
  if (viewer && img) {
    const sizes = JSON.parse(viewer.dataset.sizes || '[]');
    const boxes = document.getElementById('boxes');
    const frame = viewer.querySelector('.page-frame');
    const pageno = document.getElementById('pageno');
    const tabs = document.getElementById('ev-tabs');
    const selectedInfo = document.getElementById('selected');
    let page = 1;
    let selected = null;

    const evidenceOf = el => [...el.querySelectorAll('.ev')].map(ev => ({
      page: +ev.dataset.page, source: ev.classList.contains('table') ? 'table' : 'narrative',
      bbox: ev.dataset.bbox ? ev.dataset.bbox.split(',').map(Number) : null, text: ev.textContent,
    }));

    function draw() {
      boxes.innerHTML = '';
      const [w, h] = sizes[page - 1] || [1, 1];
      for (const el of findings) {
        const isSel = el === selected;
        for (const e of evidenceOf(el)) {
          if (e.page !== page || !e.bbox) continue;
          const b = document.createElement('div');
          b.className = `box ${e.source}${isSel ? ' sel' : ''}`;
          const [x0, y0, x1, y1] = e.bbox;
          Object.assign(b.style, {left: `${100 * x0 / w}%`, top: `${100 * y0 / h}%`,
            width: `${100 * (x1 - x0) / w}%`, height: `${100 * (y1 - y0) / h}%`});
          b.dataset.rule = el.dataset.rule;
          boxes.appendChild(b);
        }
      }
      const first = boxes.querySelector('.box.sel');  // scroll the page frame only, not the window
      if (first) frame.scrollTop = Math.max(0, first.offsetTop - frame.clientHeight / 3);
    }

    function show(n) {
      page = Math.min(Math.max(1, n), sizes.length);
      pageno.value = page;
      boxes.innerHTML = '';
      img.dataset.page = page;
      img.src = `/doc/${viewer.dataset.doc}/page/${page}.png`;
      tabs.querySelectorAll('button').forEach(t => t.classList.toggle('on', +t.dataset.page === page));
    }
    img.addEventListener('load', draw);
    document.getElementById('prev').addEventListener('click', () => show(page - 1));
    document.getElementById('next').addEventListener('click', () => show(page + 1));
    pageno.addEventListener('change', () => show(+pageno.value));

    function select(el) {
      findings.forEach(f => f.classList.toggle('selected', f === el));
      selected = el;
      const evs = evidenceOf(el);
      const pages = [...new Set(evs.map(e => e.page))].sort((a, b) => a - b);
      tabs.innerHTML = '';
      for (const p of pages) {
        const t = document.createElement('button');
        t.type = 'button'; t.dataset.page = p; t.textContent = `第${p}页`;
        t.addEventListener('click', () => show(p));
        tabs.appendChild(t);
      }
      const values = el.querySelector('.values');
      selectedInfo.textContent = el.querySelector('.msg').textContent + (values ? '  ' + values.textContent : '');
      if (pages.length) {
        if (pages[0] === page && img.complete) { show(page); draw(); } else show(pages[0]);
      }
    }
    findings.forEach(el => {
      el.addEventListener('click', e => {
        if (e.target.closest('form')) return;
        select(el);
        history.replaceState(null, '', '#' + el.id);  // a link to this finding
      });
      el.addEventListener('keydown', e => { if (e.key === 'Enter' && e.target === el) select(el); });
    });

    const linked = location.hash.startsWith('#f-') && document.getElementById(location.hash.slice(1));
    if (linked) { select(linked); linked.scrollIntoView({block: 'center'}); }
  }

  // -- verdicts ------------------------------------------------------------------------------
  document.querySelectorAll('form.verdict').forEach(vf => {
    vf.addEventListener('submit', async e => {
      e.preventDefault();
      const body = new FormData(vf);
      body.set('verdict', e.submitter.value);
      body.set('reviewer', reviewer ? reviewer.value.trim() : '');
      const state = vf.querySelector('.verdict-state');
      if (!body.get('reviewer')) { state.textContent = '请先在右上角填写审阅人姓名'; reviewer?.focus(); return; }
      const r = await post(vf.action, body);
      const data = await r.json().catch(() => ({}));
      if (!r.ok) { state.textContent = data.detail || `保存失败（${r.status}）`; return; }
      vf.querySelectorAll('button').forEach(b => b.classList.toggle('on', b.value === data.verdict));
      vf.closest('.finding').dataset.verdict = data.verdict;
      state.textContent = `${data.label} · ${data.reviewer} · ${data.at}`;
      applyFilters();
    });
  });
})();
