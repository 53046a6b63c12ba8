// Parses .eml files with mailparser (Node, no Python underneath) and prints what a
// mail app would show, as a JSON array (one object per file, in the order given),
// so the tests can compare it with Python's view.
import { readFile } from "node:fs/promises";
import { simpleParser } from "mailparser";

const addresses = (field) =>
  field ? field.value.map((a) => ({ name: a.name, address: a.address })) : [];

async function parse(path) {
  const source = await readFile(path);
  const mail = await simpleParser(source, { skipTextToHtml: true, skipHtmlToText: true });
  const headerLines = mail.headerLines.map((h) => h.key);
  // mailparser folds List-* headers into one object; the raw line is what clients act on.
  const raw = (key) => {
    const line = mail.headerLines.find((h) => h.key === key);
    return line ? line.line.slice(line.line.indexOf(":") + 1).replace(/\r?\n[ \t]/g, " ").trim() : null;
  };
  return {
    subject: mail.subject ?? null,
    from: addresses(mail.from),
    to: addresses(mail.to),
    cc: addresses(mail.cc),
    bcc: addresses(mail.bcc),
    replyTo: addresses(mail.replyTo),
    messageId: mail.messageId ?? null,
    date: mail.date ? mail.date.toISOString() : null,
    listUnsubscribe: raw("list-unsubscribe"),
    listId: raw("list-id"),
    headerNames: headerLines,
    text: mail.text ?? null,
    html: mail.html || null,
    attachments: mail.attachments.length,
  };
}

const results = [];
for (const path of process.argv.slice(2)) results.push(await parse(path));
process.stdout.write(JSON.stringify(results));
