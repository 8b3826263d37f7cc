// The viewer page of a regie live (served by the hub at /live/{name}).
// Plain JavaScript, no framework, no build step. Every text that comes from
// the network is put in the page with textContent or createTextNode, never
// as HTML. The only thing kept in the browser is the device pass
// (localStorage "regie.pass"): see docs/privacy.md.
'use strict';

(() => {
  const PASS_KEY = 'regie.pass';
  const ANNOUNCE_EVERY_MS = 2500;
  const BACKOFF_MIN_MS = 500;
  const BACKOFF_MAX_MS = 15000;

  const $ = (sel) => document.querySelector(sel);
  const el = (tag, attrs, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') node.className = v;
      else if (k === 'text') node.textContent = v;
      else if (k.startsWith('data-')) node.setAttribute(k, v);
      else node[k] = v;
    }
    for (const c of children) {
      node.append(typeof c === 'string' ? document.createTextNode(c) : c);
    }
    return node;
  };

  // ── state ───────────────────────────────────────────────────────────
  const live = decodeURIComponent(location.pathname.split('/')[2] || '');
  const state = {
    info: null,
    maxMessages: 200,
    me: null, // {first_name, pseudonym}
    myIds: new Set(), // every viewer id this page was given
    token: null,
    ws: null,
    epoch: null,
    seq: 0,
    backoff: BACKOFF_MIN_MS,
    stopped: false, // banned, or refused for good: no reconnect
    welcomed: false,
    joinedOnce: false,
    settings: {},
    liveState: 'on_air',
    messages: new Map(), // id → message (visible or tombstone)
    pinned: null,
    poll: null, // {poll, counts, voters, closed, voted}
    win: null, // {draw, entrants, result, entered}
    pending: new Map(), // command id → {frame, done}
    nextId: 1,
    idPrefix: randomPrefix(),
    unannounced: [],
  };

  function randomPrefix() {
    const bytes = new Uint8Array(6);
    crypto.getRandomValues(bytes);
    return 'p' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  function readPass() {
    try {
      return localStorage.getItem(PASS_KEY);
    } catch (_) {
      return null; // storage blocked (some embedded frames): no pass kept
    }
  }

  function keepPass(pass) {
    try {
      localStorage.setItem(PASS_KEY, pass);
    } catch (_) {
      // The hub issues another pass next time.
    }
  }

  // A brand token arrives in the fragment (never the query, so it stays
  // out of access logs); it is taken and removed from the address bar.
  function takeToken() {
    const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
    if (m) {
      state.token = decodeURIComponent(m[1]);
      history.replaceState(null, '', location.pathname + location.search);
    }
  }

  // ── notices ─────────────────────────────────────────────────────────
  const LABELS = {
    held: 'Votre message attend la validation d\u2019un modérateur.',
    released: 'Votre message a été approuvé et publié.',
    denied: 'Votre message n\u2019a pas été publié par la modération.',
    rate_limited: 'Doucement\u00a0: attendez un peu avant le prochain message.',
    timed_out: 'Vous ne pouvez plus écrire pour le moment.',
    banned: 'Vous avez été exclu de ce chat.',
    message_too_long: 'Votre message est trop long.',
    empty_message: 'Votre message est vide.',
    live_ended: 'Le live est terminé\u00a0: le chat est fermé.',
    blocked: 'Votre message n\u2019a pas été publié.',
    forbidden: 'Cette action n\u2019est pas permise.',
    invalid: 'Refusé.',
    not_found: 'Introuvable.',
    not_offered: 'Cette option n\u2019est pas proposée.',
    internal: 'Un problème est survenu\u00a0; réessayez.',
    shutting_down: 'Le serveur redémarre\u00a0; reconnexion en cours.',
    full: 'Trop de monde\u00a0; nouvel essai dans un instant.',
  };

  function notify(code, detail) {
    const n = $('#notice');
    n.setAttribute('data-code', code);
    const label = LABELS[code] || '';
    let text = label;
    if (detail && detail !== label) text = label ? label + ' (' + detail + ')' : detail;
    n.textContent = text;
  }

  function refusalText(err) {
    let detail = err.message || '';
    if (err.code === 'rate_limited' && err.retry_after_ms) {
      detail = 'réessayez dans ' + Math.ceil(err.retry_after_ms / 1000) + '\u00a0s\u00a0; ' + detail;
    }
    if (err.code === 'timed_out') {
      // The hub says how long is left ("… for another 290 s"): said as a time.
      const m = /(\d+)\s*s\b/.exec(detail);
      const ms = err.retry_after_ms || (m ? Number(m[1]) * 1000 : 0);
      if (ms) detail = 'jusqu\u2019à ' + new Date(Date.now() + ms).toLocaleTimeString('fr-FR') + '\u00a0; ' + detail;
    }
    return detail;
  }

  // ── connection ──────────────────────────────────────────────────────
  function setConn(s) {
    const c = $('#conn-state');
    c.setAttribute('data-state', s);
    c.textContent = { connecting: 'Connexion…', online: 'En ligne', offline: 'Hors ligne, reconnexion…' }[s];
  }

  function connect() {
    if (state.stopped || !state.me) return;
    setConn('connecting');
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const path = (state.info && state.info.ws) || '/';
    let ws;
    try {
      ws = new WebSocket(scheme + '//' + location.host + path);
    } catch (_) {
      scheduleReconnect();
      return;
    }
    state.ws = ws;
    state.welcomed = false;
    ws.onopen = () => {
      const auth = { kind: 'viewer', first_name: state.me.first_name };
      if (state.me.pseudonym) auth.pseudonym = state.me.pseudonym;
      const pass = readPass();
      if (pass) auth.pass = pass;
      if (state.token) auth.token = state.token;
      const hello = { type: 'hello', version: 1, live, auth };
      if (state.epoch) hello.resume = { epoch: state.epoch, seq: state.seq };
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = (e) => {
      let frame;
      try {
        frame = JSON.parse(e.data);
      } catch (_) {
        return;
      }
      onFrame(frame);
    };
    ws.onclose = (e) => {
      if (state.ws !== ws) return;
      state.ws = null;
      state.welcomed = false;
      setConn('offline');
      // 4004 banned, 4003 no such live, 4000/4001 a hello the hub refuses:
      // trying again would be refused again.
      if ([4000, 4001, 4003, 4004].includes(e.code)) {
        state.stopped = true;
        if (e.code === 4004) notify('banned');
        if (e.code === 4000 && !state.joinedOnce) showJoin();
        return;
      }
      scheduleReconnect();
    };
  }

  function scheduleReconnect() {
    if (state.stopped) return;
    const wait = state.backoff / 2 + Math.random() * state.backoff / 2;
    state.backoff = Math.min(state.backoff * 2, BACKOFF_MAX_MS);
    setTimeout(connect, wait);
  }

  function send(frame) {
    if (state.ws && state.welcomed && state.ws.readyState === WebSocket.OPEN) {
      state.ws.send(JSON.stringify(frame));
    }
  }

  // A command keeps its id until it is answered: sent again after a
  // reconnect, the hub recognises the retry and answers it once.
  function command(body, done) {
    const id = state.idPrefix + '-' + state.nextId++;
    const frame = { type: 'command', id, command: body };
    state.pending.set(id, { frame, done: done || (() => {}) });
    send(frame);
    return id;
  }

  function answered(id, ok, frame) {
    const p = state.pending.get(id);
    if (!p) return;
    state.pending.delete(id);
    p.done(ok, frame);
  }

  // ── frames ──────────────────────────────────────────────────────────
  function onFrame(f) {
    switch (f.type) {
      case 'welcome': return onWelcome(f);
      case 'snapshot_page': return onSnapshotPage(f);
      case 'snapshot_end':
        renderAll();
        atEnd = true;
        return followChat();
      case 'reload':
        state.epoch = null;
        state.seq = 0;
        return;
      case 'event': return onEventFrame(f);
      case 'events': return onEventsFrame(f);
      case 'ack': return answered(f.id, true, f);
      case 'error':
        if (f.id) {
          if (!state.pending.has(f.id)) return;
          return answered(f.id, false, f);
        }
        return notify(f.code, f.message);
      case 'bye':
        notify(f.code, f.message);
        if (f.code === 'banned') state.stopped = true;
        return;
      default:
        return;
    }
  }

  function onWelcome(w) {
    if (w.pass) keepPass(w.pass);
    if (w.you && w.you.viewer_id) state.myIds.add(w.you.viewer_id);
    if (!w.resumed) resetShow();
    if (w.snapshot) {
      state.settings = w.snapshot.settings || {};
      if (w.snapshot.pinned) {
        remember(w.snapshot.pinned);
        state.pinned = w.snapshot.pinned.id;
      }
      state.product = w.snapshot.now_showing || null;
      showOnline(w.snapshot.viewers_online);
    } else {
      showOnline(w.viewers_online);
    }
    if (w.live_info) setLiveState(w.live_info.state, w.live_info);
    // A fresh snapshot stands for everything up to the welcome's seq; a
    // resumed welcome is followed by the replay of what came after the
    // seq this page last saw, which must not be taken as seen already.
    if (!w.resumed || w.epoch !== state.epoch) state.seq = w.seq;
    state.epoch = w.epoch;
    state.welcomed = true;
    state.backoff = BACKOFF_MIN_MS;
    setConn('online');
    // A notice about the connection itself is over once it is back.
    if (['shutting_down', 'full', 'internal', 'slow_consumer', 'idle_timeout'].includes($('#notice').getAttribute('data-code'))) notify('', '');
    showShow();
    for (const p of state.pending.values()) send(p.frame);
    if (!state.joinedOnce) {
      state.joinedOnce = true;
      sendJoinConsents();
    }
    renderAll();
  }

  function resetShow() {
    state.messages.clear();
    $('#messages').replaceChildren();
    $('#answers').replaceChildren();
    state.pinned = null;
    state.poll = null;
    state.win = null;
    state.product = null;
  }

  function onSnapshotPage(p) {
    for (const entry of p.recent || []) {
      if (entry.kind === 'redacted') addTombstone(entry.message_id, entry.reason);
      else if (entry.kind === 'message') addMessage(entry);
    }
    for (const q of p.open_questions || []) remember(q);
    for (const poll of p.polls || []) {
      if (poll.cleared_at) {
        if (state.poll && state.poll.poll.id === poll.poll.id) state.poll = null;
        continue;
      }
      state.poll = { poll: poll.poll, counts: poll.counts, voters: poll.voters, closed: !!poll.closed_at, voted: null };
    }
    for (const w of p.instant_wins || []) {
      if (state.win && state.win.draw.id === w.draw.id && w.result && state.win.result) {
        state.win.result.winners = state.win.result.winners.concat(w.result.winners);
      } else {
        state.win = { draw: w.draw, entrants: w.entrants, result: w.result || null, entered: false };
      }
    }
  }

  function onEventFrame(f) {
    // A resume replays from the last seq; anything at or before it was
    // seen already (no duplicate).
    if (f.epoch !== state.epoch || f.seq <= state.seq) return;
    state.seq = f.seq;
    onEvent(f.event, f.at);
  }

  // A viewer's tick: its events in order, then the chat lines the live's
  // delivery sampled out (`skipped` ranges), which move the resume point
  // as if received, so a later resume asks for none of them.
  function onEventsFrame(f) {
    for (const e of f.events || []) onEventFrame(e);
    for (const s of f.skipped || []) {
      if (state.epoch && s.to > state.seq) state.seq = s.to;
    }
  }

  function onEvent(e, at) {
    switch (e.type) {
      case 'message':
        if (e.message.visibility && e.message.visibility.state !== 'visible') return;
        addMessage(e.message, true);
        return;
      case 'released':
        addMessage(e.message, true);
        return;
      case 'hold_notice':
        if (!state.myIds.has(e.viewer_id)) return;
        notify({ waiting: 'held', approved: 'released', denied: 'denied', expired: 'denied' }[e.outcome] || 'held');
        return;
      case 'redacted':
        addTombstone(e.tombstone.message_id, e.tombstone.reason, true);
        if (state.pinned === e.tombstone.message_id) state.pinned = null;
        renderPinned();
        return;
      case 'viewer_erased':
        for (const [id, m] of state.messages) {
          if (m.author && m.author.viewer_id === e.viewer_id) addTombstone(id, e.reason, true);
        }
        renderPinned();
        return;
      case 'hidden':
        removeMessage(e.message_id);
        if (state.pinned === e.message_id) state.pinned = null;
        renderPinned();
        return;
      case 'pinned':
        state.pinned = e.message_id;
        renderPinned();
        return;
      case 'unpinned':
        if (state.pinned === e.message_id) state.pinned = null;
        renderPinned();
        return;
      case 'viewer_rectified':
        for (const [id, m] of state.messages) {
          if (m.author && m.author.viewer_id === e.viewer_id) {
            if (e.first_name) m.author.first_name = e.first_name;
            if (e.pseudonym) m.author.pseudonym = e.pseudonym;
            const li = messageItem(id);
            if (li && !m.tombstone) li.querySelector('.author').textContent = authorName(m);
          }
        }
        return;
      case 'slow_mode_changed':
        state.settings.slow_mode_secs = e.secs;
        renderSayHint();
        return;
      case 'shield_changed':
        state.settings.shield = e.on;
        state.settings.slow_mode_secs = e.slow_mode_secs;
        renderSayHint();
        return;
      case 'viewers_online':
        showOnline(e.count);
        return;
      case 'sanction_lifted':
        notify('lifted', 'Vous pouvez de nouveau écrire.');
        return;
      case 'poll_opened':
        state.poll = { poll: e.poll, counts: e.poll.options.map(() => 0), voters: 0, closed: false, voted: null };
        renderPoll();
        return;
      case 'poll_tally':
      case 'poll_closed':
        if (state.poll && state.poll.poll.id === e.poll_id) {
          state.poll.counts = e.counts;
          state.poll.voters = e.voters;
          if (e.type === 'poll_closed') state.poll.closed = true;
          renderPoll();
        }
        return;
      case 'poll_cleared':
        if (state.poll && state.poll.poll.id === e.poll_id) state.poll = null;
        renderPoll();
        return;
      case 'instant_win_opened':
        state.win = { draw: e.draw, entrants: 0, result: null, entered: false };
        renderWin();
        return;
      case 'instant_win_entries':
        if (state.win && state.win.draw.id === e.draw_id) {
          state.win.entrants = e.entrants;
          renderWin();
        }
        return;
      case 'instant_win_drawn':
        if (state.win && state.win.draw.id === e.draw_id) {
          state.win.entrants = e.entrants;
          state.win.result = { winners: e.winners, seed: e.seed };
          renderWin();
        }
        return;
      case 'live_state':
        setLiveState(e.state, { state: e.state });
        return;
      case 'now_showing':
        state.product = e.product || null;
        renderProduct();
        return;
      default:
        return;
    }
  }

  // ── chat ────────────────────────────────────────────────────────────
  function authorName(m) {
    const a = m.author || {};
    if (a.kind === 'staff') return a.name + ' (' + ({ host: 'animation', moderator: 'modération', support: 'support', admin: 'équipe' }[a.role] || 'équipe') + ')';
    return a.first_name + (a.pseudonym ? ' ' + a.pseudonym : '');
  }

  function remember(m) {
    state.messages.set(m.id, m);
  }

  function messageItem(id) {
    return $('#messages').querySelector('li[data-id="' + Number(id) + '"]');
  }

  function messageNode(m) {
    const li = el('li', { class: 'msg', 'data-id': String(m.id) });
    if (m.author && m.author.kind === 'staff') li.classList.add('staff');
    if (m.question) li.classList.add('question');
    // A staff announcement stands apart (text only, like every line).
    if (m.announcement && m.author && m.author.kind === 'staff') {
      li.classList.add('announcement');
      li.append(el('span', { class: 'badge announcement-badge', text: 'Annonce\u00a0' }));
    }
    li.append(el('span', { class: 'author', text: authorName(m) }), document.createTextNode(' '));
    if (m.reply_to) {
      // A group answer names every asker: mine first if I am one of them.
      const mine = myTarget(m);
      const shown = mine || m.reply_to;
      const others = answerTargets(m).length - 1;
      const more = others > 0 ? ' +' + others : '';
      li.append(el('span', { class: 'reply-to', text: '@' + (shown.first_name || '…') + more + ' ' }));
    }
    li.append(el('span', { class: 'text', text: m.text }));
    if (m.question) li.append(el('span', { class: 'badge', text: m.answered ? ' Question (répondue)' : ' Question' }));
    return li;
  }

  // Inserts in id order, replacing an entry already shown (a resume or a
  // release never shows a message twice).
  function addMessage(m, announce) {
    const list = $('#messages');
    const existing = messageItem(m.id);
    remember(m);
    const li = messageNode(m);
    if (existing) {
      if (existing.classList.contains('tombstone')) return;
      existing.replaceWith(li);
    } else {
      let before = null;
      for (let n = list.lastElementChild; n; n = n.previousElementSibling) {
        if (Number(n.getAttribute('data-id')) < m.id) break;
        before = n;
      }
      list.insertBefore(li, before);
      if (announce) queueAnnounce(m);
    }
    if (isAnswerForMe(m)) addAnswer(m);
    bound();
    if (state.pinned === m.id) renderPinned();
    if (announce && list.lastElementChild === li) followChat();
  }

  // The list follows new messages, once per frame however many arrive,
  // and only when the viewer is reading the end of it (not scrolled up).
  let following = false;
  let atEnd = true;
  function followChat() {
    if (following || !atEnd) return;
    const list = $('#messages');
    following = true;
    requestAnimationFrame(() => {
      following = false;
      list.scrollTop = list.scrollHeight;
    });
  }

  function addTombstone(id, reason, inPlaceOnly) {
    const existing = messageItem(id);
    if (inPlaceOnly && !existing) {
      state.messages.delete(id);
      return;
    }
    const old = state.messages.get(id);
    state.messages.set(id, { id, tombstone: true, author: old && old.author ? { viewer_id: old.author.viewer_id } : null });
    const li = el('li', { class: 'msg tombstone', 'data-id': String(id) },
      el('span', { class: 'text', text: 'Message supprimé' + (reason ? ' (' + reason + ')' : '') }));
    if (existing) existing.replaceWith(li);
    else $('#messages').append(li);
    bound();
  }

  function removeMessage(id) {
    const li = messageItem(id);
    if (li) li.remove();
    state.messages.delete(id);
  }

  // The DOM keeps the last max_messages entries only.
  function bound() {
    const list = $('#messages');
    while (list.children.length > state.maxMessages) {
      const first = list.firstElementChild;
      const id = Number(first.getAttribute('data-id'));
      first.remove();
      if (id !== state.pinned) state.messages.delete(id);
    }
  }

  // Every message an answer replies to: `reply_to`, then a group
  // answer's `also_to` (one per other asker).
  function answerTargets(m) {
    if (!m.reply_to) return [];
    return [m.reply_to].concat(Array.isArray(m.also_to) ? m.also_to : []);
  }

  // The target of an answer that names one of my messages, if any.
  function myTarget(m) {
    if (!state.me) return null;
    for (const target of answerTargets(m)) {
      const asked = state.messages.get(target.message_id);
      if (asked && asked.author && asked.author.viewer_id) {
        if (state.myIds.has(asked.author.viewer_id)) return target;
      } else if (target.first_name && target.first_name === state.me.first_name) {
        return target;
      }
    }
    return null;
  }

  function isAnswerForMe(m) {
    return myTarget(m) !== null;
  }

  function addAnswer(m) {
    const box = $('#answers');
    if (box.querySelector('li[data-id="' + Number(m.id) + '"]')) return;
    const target = myTarget(m) || m.reply_to;
    const asked = state.messages.get(target.message_id);
    const li = el('li', { class: 'answer', 'data-id': String(m.id) },
      el('span', { class: 'author', text: authorName(m) + ' vous répond\u00a0: ' }),
      el('span', { class: 'text', text: m.text }));
    if (asked && asked.text) li.append(el('span', { class: 'asked muted', text: ' \u2014 à «\u00a0' + asked.text + '\u00a0»' }));
    box.append(li);
    while (box.children.length > 20) box.firstElementChild.remove();
    $('#answers-box').hidden = false;
  }

  // New messages are announced politely: at most one announcement every
  // couple of seconds, however fast the chat runs.
  function queueAnnounce(m) {
    state.unannounced.push(m);
  }

  setInterval(() => {
    const batch = state.unannounced;
    if (batch.length === 0) return;
    state.unannounced = [];
    const region = $('#live-region');
    if (batch.length === 1) region.textContent = authorName(batch[0]) + '\u00a0: ' + batch[0].text;
    else region.textContent = batch.length + ' nouveaux messages, le dernier de ' + authorName(batch[batch.length - 1]) + '\u00a0: ' + batch[batch.length - 1].text;
  }, ANNOUNCE_EVERY_MS);

  function renderSayHint() {
    const s = state.settings;
    const parts = [];
    if (s.slow_mode_secs) parts.push('Mode lent\u00a0: un message toutes les ' + s.slow_mode_secs + '\u00a0s.');
    if (s.max_message_graphemes) parts.push(s.max_message_graphemes + ' caractères au plus.');
    $('#say-hint').textContent = parts.join(' ');
  }

  function onSay(ev) {
    ev.preventDefault();
    const input = $('#say-text');
    const text = input.value.trim();
    if (!text) {
      notify('empty_message');
      return;
    }
    const question = $('#say-question').checked;
    input.value = '';
    $('#say-question').checked = false;
    command({ type: 'say', text, question }, (ok, f) => {
      if (ok) return;
      notify(f.code, refusalText(f));
      if (!input.value) input.value = text;
      if (question) $('#say-question').checked = true;
    });
  }

  // ── pin, now showing ────────────────────────────────────────────────
  function renderPinned() {
    const box = $('#pinned');
    const m = state.pinned != null ? state.messages.get(state.pinned) : null;
    if (!m || m.tombstone) {
      box.hidden = true;
      box.replaceChildren();
    } else {
      box.classList.toggle('announcement', !!m.announcement);
      box.replaceChildren(el('span', { class: 'label', text: m.announcement ? 'Annonce épinglée\u00a0: ' : 'Épinglé\u00a0: ' }),
        el('span', { class: 'author', text: authorName(m) + ' ' }), el('span', { class: 'text', text: m.text }));
      box.hidden = false;
    }
    renderNowShowing();
  }

  // The product card: name, price, and a link only when it is http(s).
  // Every value goes in as text; the link opens apart from the page.
  function renderProduct() {
    const box = $('#now-showing');
    const p = state.product;
    if (!p) {
      box.hidden = true;
      box.removeAttribute('data-product-id');
      box.replaceChildren();
      return;
    }
    const parts = [
      el('span', { class: 'label', text: 'À l\u2019écran\u00a0: ' }),
      el('span', { class: 'name', text: String(p.name || '') }),
      el('span', { class: 'price', text: String(p.price || '') }),
    ];
    const link = typeof p.link === 'string' ? p.link : '';
    if (/^https?:\/\/[^\s]+$/i.test(link)) {
      const a = el('a', { class: 'link', text: 'Voir le produit' });
      a.setAttribute('href', link);
      a.setAttribute('rel', 'noopener noreferrer');
      a.setAttribute('target', '_blank');
      parts.push(a);
    }
    box.setAttribute('data-product-id', String(Number(p.id)));
    box.replaceChildren(...parts);
    box.hidden = false;
  }

  // What else is on screen (pin, poll, game), in one line under the card.
  function renderNowShowing() {
    const items = [];
    if (state.pinned != null && state.messages.get(state.pinned) && !state.messages.get(state.pinned).tombstone) items.push('le message épinglé');
    if (state.poll && !state.poll.closed) items.push('le sondage «\u00a0' + state.poll.poll.question + '\u00a0»');
    if (state.win && !state.win.result) items.push('le jeu «\u00a0' + state.win.draw.prize + '\u00a0»');
    const box = $('#on-screen');
    box.hidden = items.length === 0;
    box.textContent = items.length ? 'À l\u2019écran\u00a0: ' + items.join(', ') : '';
  }

  // ── poll ────────────────────────────────────────────────────────────
  function renderPoll() {
    const box = $('#poll');
    const p = state.poll;
    if (!p) {
      box.hidden = true;
      box.removeAttribute('data-poll-id');
      renderNowShowing();
      return;
    }
    box.hidden = false;
    box.setAttribute('data-poll-id', String(p.poll.id));
    $('#poll-question').textContent = p.poll.question;
    const total = p.counts.reduce((a, b) => a + b, 0);
    const rows = p.poll.options.map((label, i) => {
      const count = p.counts[i] || 0;
      const pct = total ? Math.round((count * 100) / total) : 0;
      const button = el('button', { type: 'button', class: 'poll-option', 'data-option': String(i), text: label });
      button.disabled = p.closed || p.voted != null;
      button.setAttribute('aria-pressed', String(p.voted === i));
      button.addEventListener('click', () => vote(p.poll.id, i));
      const result = el('span', { class: 'poll-result', 'data-option': String(i), text: count + ' vote' + (count > 1 ? 's' : '') + ' (' + pct + '\u00a0%)' });
      const bar = el('progress', { max: 100, value: pct });
      bar.setAttribute('aria-hidden', 'true');
      return el('div', { class: 'poll-row' }, button, result, bar);
    });
    $('#poll-options').replaceChildren(...rows);
    $('#poll-status').textContent = p.closed ? 'Sondage terminé, ' + p.voters + ' votants.' : (p.voted != null ? 'Merci, votre vote est compté.' : p.voters + ' votants pour l\u2019instant.');
    renderNowShowing();
  }

  function vote(pollId, option) {
    command({ type: 'vote', poll_id: pollId, option }, (ok, f) => {
      if (ok) {
        if (state.poll && state.poll.poll.id === pollId) state.poll.voted = option;
      } else {
        notify(f.code, refusalText(f));
      }
      renderPoll();
    });
  }

  // ── instant win ─────────────────────────────────────────────────────
  function renderWin() {
    const box = $('#instant-win');
    const w = state.win;
    if (!w) {
      box.hidden = true;
      box.removeAttribute('data-draw-id');
      renderNowShowing();
      return;
    }
    box.hidden = false;
    box.setAttribute('data-draw-id', String(w.draw.id));
    box.querySelector('.prize').textContent = 'À gagner\u00a0: ' + w.draw.prize + (w.draw.winners > 1 ? ' (' + w.draw.winners + ' gagnants)' : '');
    box.querySelector('.rules').textContent = w.draw.rules;
    $('#commitment').textContent = w.draw.commitment;
    const enter = $('#enter');
    enter.disabled = !!w.result || w.entered;
    enter.textContent = w.entered ? 'Vous participez' : 'Participer';
    const winners = $('#winners');
    const record = $('#draw-record');
    if (w.result) {
      $('#instant-win-status').textContent = 'Tirage fait parmi ' + w.entrants + ' participants.';
      winners.replaceChildren(...w.result.winners.map((v) =>
        el('li', { text: v.first_name + (v.pseudonym ? ' ' + v.pseudonym : '') + (state.myIds.has(v.viewer_id) ? ' (vous\u00a0!)' : '') })));
      record.href = '/draws/' + Number(w.draw.id) + '.json';
      record.hidden = false;
    } else {
      const closes = w.draw.closes_at ? ' Clôture à ' + new Date(w.draw.closes_at).toLocaleTimeString('fr-FR') + '.' : '';
      $('#instant-win-status').textContent = w.entrants + ' participants.' + closes;
      winners.replaceChildren();
      record.hidden = true;
      record.removeAttribute('href');
    }
    renderNowShowing();
  }

  function enter() {
    const w = state.win;
    if (!w) return;
    const drawId = w.draw.id;
    command({ type: 'enter', draw_id: drawId }, (ok, f) => {
      if (ok) {
        if (state.win && state.win.draw.id === drawId) state.win.entered = true;
        notify('entered', 'Votre participation est enregistrée.');
      } else {
        notify(f.code, refusalText(f));
      }
      renderWin();
    });
  }

  // ── live state: waiting room, on air, ended ─────────────────────────
  function setLiveState(s, info) {
    state.liveState = s;
    if (info && info.starts_at) {
      const t = $('#starts-at');
      t.dateTime = new Date(info.starts_at).toISOString();
      t.textContent = new Date(info.starts_at).toLocaleString('fr-FR', { dateStyle: 'full', timeStyle: 'short' });
    }
    $('#waiting').hidden = s !== 'scheduled';
    $('#ended').hidden = s !== 'ended';
    $('#say').hidden = s === 'ended';
    if (s === 'ended') $('#join').hidden = true;
  }

  function showOnline(n) {
    if (typeof n === 'number') $('#viewers-online').textContent = n + ' en ligne';
  }

  function showJoin() {
    $('#join').hidden = false;
    $('#show').hidden = true;
  }

  function showShow() {
    $('#join').hidden = true;
    $('#show').hidden = false;
  }

  function renderAll() {
    renderProduct();
    renderPinned();
    renderPoll();
    renderWin();
    renderSayHint();
  }

  // ── opt-ins ─────────────────────────────────────────────────────────
  // Each opt-in stands alone: a "yes" and an equally prominent "no",
  // neither ticked; its contact field appears only with the "yes".
  // What each opt-in is called, and its withdrawal button.
  const OPT_IN_WORDS = {
    marketing: ['Offres par e-mail', 'Retirer mon accord aux offres par e-mail'],
    sms_marketing: ['Offres par SMS après le live', 'Retirer mon accord aux offres par SMS'],
    sms_reminders: ['Alerte SMS au début du prochain live', 'Retirer mon accord à l\u2019alerte SMS'],
  };
  function optInWords(purpose) {
    return OPT_IN_WORDS[purpose] || OPT_IN_WORDS.sms_reminders;
  }
  let fieldsetCount = 0;
  function optInFieldset(optIn) {
    const n = ++fieldsetCount;
    const fs = el('fieldset', { class: 'opt-in', 'data-purpose': optIn.purpose });
    fs.append(el('legend', { text: optInWords(optIn.purpose)[0] }));
    fs.append(el('p', { class: 'consent-text', id: 'consent-text-' + n, text: optIn.text }));
    const choices = el('div', { class: 'choices' });
    for (const [value, label] of [['yes', 'Oui'], ['no', 'Non']]) {
      const id = 'opt-' + n + '-' + value;
      const radio = el('input', { type: 'radio', name: 'opt-' + n, id, value });
      radio.setAttribute('aria-describedby', 'consent-text-' + n);
      choices.append(el('span', { class: 'choice' }, radio, el('label', { htmlFor: id, text: label })));
    }
    fs.append(choices);
    const contactId = 'contact-' + n;
    const isEmail = optIn.collects === 'email';
    const input = el('input', { id: contactId, type: isEmail ? 'email' : 'tel', autocomplete: isEmail ? 'email' : 'tel' });
    const contact = el('p', { class: 'contact' },
      el('label', { htmlFor: contactId, text: isEmail ? 'Votre e-mail' : 'Votre numéro de mobile' }), input);
    contact.hidden = true;
    fs.append(contact);
    fs.addEventListener('change', () => {
      const yes = fs.querySelector('input[value="yes"]').checked;
      contact.hidden = !yes;
      input.required = yes;
    });
    return fs;
  }

  function choiceOf(fs) {
    const yes = fs.querySelector('input[value="yes"]');
    const no = fs.querySelector('input[value="no"]');
    const contact = fs.querySelector('.contact input');
    return { purpose: fs.getAttribute('data-purpose'), yes: yes.checked, no: no.checked, contact: contact.value.trim(), kind: contact.type };
  }

  function optInOf(purpose) {
    return ((state.info && state.info.opt_ins) || []).find((o) => o.purpose === purpose);
  }

  function consentCommand(purpose, granted, contactValue, kind) {
    const optIn = optInOf(purpose);
    if (!optIn) return null;
    const body = { type: 'consent', purpose, granted, channel: 'player', text_sha256: optIn.text_sha256 };
    if (granted && contactValue) body.contact = kind === 'email' ? { email: contactValue } : { phone: contactValue };
    return body;
  }

  let joinChoices = [];
  function sendJoinConsents() {
    for (const c of joinChoices) {
      if (!c.yes) continue;
      const body = consentCommand(c.purpose, true, c.contact, c.kind);
      if (!body) continue;
      command(body, (ok, f) => notify(ok ? 'consented' : f.code, ok ? 'Votre choix est enregistré.' : refusalText(f)));
    }
    joinChoices = [];
  }

  function onJoin(ev) {
    ev.preventDefault();
    const form = $('#join');
    if (!form.reportValidity()) return;
    const first = $('#first-name').value.trim();
    if (!first) {
      $('#first-name').focus();
      return;
    }
    const pseudonym = $('#pseudonym').value.trim();
    state.me = { first_name: first, pseudonym: pseudonym || null };
    joinChoices = Array.from(form.querySelectorAll('fieldset.opt-in'), choiceOf);
    state.stopped = false;
    connect();
  }

  function onAlert(ev) {
    ev.preventDefault();
    const fs = $('#alert fieldset.opt-in');
    if (!fs) return;
    const c = choiceOf(fs);
    if (!c.yes) {
      notify('alert', c.no ? 'D\u2019accord, pas d\u2019alerte.' : 'Choisissez «\u00a0Oui\u00a0» pour recevoir l\u2019alerte.');
      return;
    }
    if (!$('#alert').reportValidity()) return;
    if (!state.me) {
      notify('not_joined', 'Indiquez d\u2019abord votre prénom pour rejoindre le chat.');
      $('#first-name').focus();
      return;
    }
    const body = consentCommand(c.purpose, true, c.contact, c.kind);
    if (!body) return;
    command(body, (ok, f) => notify(ok ? 'consented' : f.code, ok ? 'C\u2019est noté\u00a0: vous recevrez un SMS au début du prochain live.' : refusalText(f)));
  }

  // ── privacy ─────────────────────────────────────────────────────────
  function privacyStatus(text) {
    $('#privacy-status').textContent = text;
  }

  function needJoined() {
    if (state.me) return true;
    privacyStatus('Rejoignez d\u2019abord le chat (votre prénom suffit)\u00a0: la demande est liée à votre appareil.');
    return false;
  }

  function renderPrivacy() {
    const p = (state.info && state.info.privacy) || {};
    $('#privacy-summary').replaceChildren(...(p.summary || []).map((s) =>
      el('li', {}, el('strong', { text: s.what }), document.createTextNode('\u00a0: ' + s.kept))));
    $('#privacy-register').replaceChildren(...(p.register || []).map((f) =>
      el('li', { text: f.holds + ' \u2014 ' + f.purpose + ' \u2014 ' + f.basis + ' \u2014 ' + f.kept })));
    const withdraw = ((state.info && state.info.opt_ins) || []).map((o) => {
      const b = el('button', { type: 'button', class: 'withdraw', 'data-purpose': o.purpose,
        text: optInWords(o.purpose)[1] });
      b.addEventListener('click', () => {
        if (!needJoined()) return;
        const body = consentCommand(o.purpose, false);
        command(body, (ok, f) => privacyStatus(ok ? 'Accord retiré\u00a0; les coordonnées données pour cela sont effacées.' : f.message));
      });
      return el('p', {}, b);
    });
    $('#privacy-withdraw').replaceChildren(...withdraw);
  }

  function privacyRequest(kind) {
    if (!needJoined()) return;
    command({ type: 'privacy_request', kind }, (ok, f) => privacyStatus(ok
      ? (kind === 'access' ? 'Demande de copie enregistrée\u00a0: le support y répond sous un mois.' : 'Demande d\u2019effacement enregistrée\u00a0: le support y répond sous un mois.')
      : 'Demande refusée\u00a0: ' + f.message));
  }

  // ── start ───────────────────────────────────────────────────────────
  async function start() {
    takeToken();
    $('#join').addEventListener('submit', onJoin);
    $('#say').addEventListener('submit', onSay);
    $('#alert').addEventListener('submit', onAlert);
    $('#enter').addEventListener('click', enter);
    const list = $('#messages');
    list.addEventListener('scroll', () => {
      atEnd = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    }, { passive: true });
    $('#privacy-open').addEventListener('click', () => {
      privacyStatus('');
      $('#privacy').showModal();
    });
    $('#privacy-close').addEventListener('click', () => $('#privacy').close());
    $('#request-access').addEventListener('click', () => privacyRequest('access'));
    $('#request-erasure').addEventListener('click', () => privacyRequest('erase'));
    try {
      const r = await fetch(location.pathname.replace(/\/$/, '') + '/info.json', { cache: 'no-store' });
      if (!r.ok) throw new Error('HTTP ' + r.status);
      state.info = await r.json();
    } catch (e) {
      setConn('offline');
      notify('internal', 'Impossible de charger le live\u00a0: ' + e.message);
      return;
    }
    const info = state.info;
    state.maxMessages = (info.page && info.page.max_messages) || state.maxMessages;
    document.title = info.live.title || info.live.name;
    $('#live-title').textContent = info.live.title || info.live.name;
    $('#closing-message').textContent = (info.page && info.page.closing_message) || '';
    for (const o of info.opt_ins || []) $('#join-opt-ins').append(optInFieldset(o));
    const sms = optInOf('sms_reminders');
    if (sms) $('#alert-opt-in').append(optInFieldset(sms));
    else $('#alert').hidden = true;
    renderPrivacy();
    setLiveState(info.live.state, info.live);
    setConn('offline');
    $('#conn-state').textContent = 'Pas encore connecté';
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
