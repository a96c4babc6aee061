// The demo's own script: AJAX "Load more", polling, long polling, SSE and
// WebSocket chat. Plain fetch(), EventSource and WebSocket; no library.
"use strict";

function appendItem(list, text) {
  const item = document.createElement("li");
  item.textContent = text; // textContent, never innerHTML: messages are untrusted
  list.appendChild(item);
  list.scrollTop = list.scrollHeight;
}

function postForm(form) {
  return fetch(form.action, { method: "POST", body: new FormData(form) });
}

// AJAX: fetch one more paragraph of the long post.
const loadButton = document.getElementById("load");
if (loadButton) {
  loadButton.addEventListener("click", async () => {
    const response = await fetch(loadButton.dataset.url);
    const paragraph = document.createElement("div");
    paragraph.className = "more";
    paragraph.innerHTML = await response.text(); // our own server's HTML fragment
    document.getElementById("post-body").appendChild(paragraph);
  });
}

// Traditional polling: ask for the time every two seconds.
const pollTarget = document.getElementById("poll-time");
if (pollTarget) {
  const poll = async () => {
    const response = await fetch(pollTarget.dataset.url);
    const data = await response.json();
    pollTarget.textContent = data.time;
  };
  poll();
  setInterval(poll, 2000);
}

// Long polling: the server holds each request until a message arrives
// (200 with the message) or its timeout passes (204); then ask again.
const longList = document.getElementById("long-messages");
if (longList) {
  const wait = async () => {
    try {
      const response = await fetch(longList.dataset.url);
      if (response.status === 200) appendItem(longList, (await response.json()).message);
      else if (response.status !== 204) throw new Error(response.statusText);
    } catch (error) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    wait();
  };
  wait();
  const form = document.getElementById("long-form");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    postForm(form).then(() => form.querySelector("[name=message]").value = "");
  });
}

// SSE chat: EventSource receives, a plain POST sends.
const chatList = document.getElementById("chat-messages");
if (chatList) {
  const source = new EventSource(chatList.dataset.stream);
  // "ready" comes once the server has subscribed: from then on no message is missed.
  source.addEventListener("ready", () => { chatList.dataset.ready = "yes"; });
  source.addEventListener("message", (event) => appendItem(chatList, event.data));
  const form = document.getElementById("chat-form");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    postForm(form).then(() => form.querySelector("[name=message]").value = "");
  });
}

// WebSocket chat: one socket both ways.
const wsList = document.getElementById("ws-messages");
if (wsList) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${location.host}${wsList.dataset.url}`);
  let opened = false;
  socket.addEventListener("open", () => { opened = true; });
  // Closed before it ever opened: the server refused the upgrade (426 under WSGI).
  socket.addEventListener("close", () => {
    if (!opened) document.getElementById("ws-unavailable").hidden = false;
  });
  socket.addEventListener("message", (event) => {
    if (event.data === "ready") wsList.dataset.ready = "yes";
    else appendItem(wsList, event.data);
  });
  const form = document.getElementById("ws-form");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const input = form.querySelector("[name=message]");
    socket.send(`${form.querySelector("[name=user]").value}: ${input.value}`);
    input.value = "";
  });
}
