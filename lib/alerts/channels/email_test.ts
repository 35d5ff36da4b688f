import assert from "node:assert/strict";
import { buildMail, dotStuff, encodeHeaderWords, sendMail, SmtpError } from "./email.ts";
import { startSmtp } from "../../../tests/support/receivers.ts";

Deno.test("dotStuff() normalises line ends to CRLF and doubles leading dots", () => {
  assert.equal(dotStuff("a\n.b\r\n..c\rd\n."), "a\r\n..b\r\n...c\r\nd\r\n..");
});

Deno.test("buildMail() cannot be made to carry extra headers", () => {
  const mail = buildMail({
    from: "hub@example.com",
    to: ["ops@example.com"],
    subject: "CPU high\r\nBcc: evil@example.com\nX-Injected: 1",
    text: "body",
    now: Date.UTC(2026, 0, 1),
  });
  const headers = mail.split("\r\n\r\n")[0].split("\r\n");
  assert.ok(headers.every((h) => !/^(Bcc|X-Injected):/i.test(h)), headers.join("\n"));
  assert.ok(headers.includes("Subject: CPU high Bcc: evil@example.com X-Injected: 1"));
  assert.ok(headers.includes("Date: Thu, 01 Jan 2026 00:00:00 +0000"));
  assert.throws(
    () => buildMail({ from: "a@b.io\r\nBcc: x@y.io", to: ["c@d.io"], subject: "s", text: "t" }),
    SmtpError,
  );
  assert.throws(() =>
    buildMail({ from: "a@b.io", to: ["c@d.io>, <x@y.io"], subject: "s", text: "t" })
  );
});

Deno.test("encodeHeaderWords() encodes non-ASCII subjects as RFC 2047 words", () => {
  const w = encodeHeaderWords("Mémoire pleine sur höst-ü ✓ ".repeat(3));
  assert.ok(
    w.split("\r\n ").every((x) => /^=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=$/.test(x) && x.length <= 75),
  );
});

for (const mech of ["PLAIN", "LOGIN"]) {
  Deno.test(`sendMail() delivers to an SMTP server with AUTH ${mech}, dot-stuffed`, async () => {
    const smtp = startSmtp({ authMechanisms: [mech] });
    try {
      await sendMail({
        host: "127.0.0.1",
        port: smtp.port,
        security: "none",
        username: "alerts",
        password: "s3cret pass",
        allowInsecureAuth: true,
        from: "hub@example.com",
        to: ["ops@example.com", "oncall@example.com"],
        subject: "Disk full on wëb-1",
        text: "line one\n.starts with a dot\n.\nend",
      });
      assert.equal(smtp.mails.length, 1);
      const m = smtp.mails[0];
      assert.deepEqual(m.auth, [mech, "alerts", "s3cret pass"]);
      assert.equal(m.from, "hub@example.com");
      assert.deepEqual(m.to, ["ops@example.com", "oncall@example.com"]);
      const [head, body] = m.data.split("\r\n\r\n");
      assert.match(head, /^From: Capstan <hub@example.com>$/m);
      assert.match(head, /^To: ops@example.com, oncall@example.com$/m);
      assert.match(head, /^Subject: =\?UTF-8\?B\?/m);
      assert.equal(body, "line one\r\n.starts with a dot\r\n.\r\nend");
      // On the wire the lone dot was stuffed, so it did not end the message early.
      assert.ok(smtp.transcripts[0].includes(".."));
    } finally {
      await smtp.close();
    }
  });
}

Deno.test("sendMail() refuses credentials over plain text and CRLF in fields", async () => {
  const smtp = startSmtp({ authMechanisms: ["PLAIN"] });
  try {
    const base = {
      host: "127.0.0.1",
      port: smtp.port,
      security: "none" as const,
      from: "hub@example.com",
      to: ["ops@example.com"],
      subject: "s",
      text: "t",
    };
    await assert.rejects(() => sendMail({ ...base, username: "u", password: "p" }), /unencrypted/);
    await assert.rejects(
      () => sendMail({ ...base, username: "u\r\nRSET", password: "p", allowInsecureAuth: true }),
      /Line breaks/,
    );
    await assert.rejects(() => sendMail({ ...base, security: "starttls" }), /STARTTLS/);
    assert.equal(smtp.mails.length, 0);
  } finally {
    await smtp.close();
  }
});
