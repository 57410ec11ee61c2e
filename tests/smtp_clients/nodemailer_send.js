// A second real SMTP client for the tests: nodemailer with AUTH XOAUTH2 (type OAuth2 + accessToken).
// Usage: node nodemailer_send.js '<json>'  ->  prints {"ok": true, "response": ...} or
// {"ok": false, "code": <reply code>, "response": <reply>, "command": ...}. The token never printed.
"use strict";
const fs = require("fs");
const nodemailer = require("nodemailer");

const config = JSON.parse(process.argv[2]);
const transport = nodemailer.createTransport({
  host: config.host,
  port: config.port,
  secure: false, // port 587: plain connection, then STARTTLS
  requireTLS: config.starttls,
  ignoreTLS: !config.starttls,
  forceAuth: !config.starttls, // send AUTH even though a plain connection does not offer it (the app's mistake)
  name: "o365check.localhost",
  tls: { ca: fs.readFileSync(config.ca), servername: config.servername, minVersion: "TLSv1.2" },
  auth: { type: "OAuth2", user: config.user, accessToken: config.token },
});

transport
  .sendMail({
    envelope: { from: config.from, to: [config.to] },
    from: config.from,
    to: config.to,
    subject: "nodemailer via o365check sandbox",
    text: "sent by nodemailer with SMTP AUTH XOAUTH2",
  })
  .then((info) => console.log(JSON.stringify({ ok: true, response: info.response })))
  .catch((err) =>
    console.log(JSON.stringify({ ok: false, code: err.responseCode || null, response: err.response || String(err.message), command: err.command || null }))
  );
