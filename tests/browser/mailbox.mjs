// The test server's mail look-up (MAIL_URL: the last reset link mailed to ?to=), shared by
// the browser walks.

// The newest link mailed to `email` once it differs from `previous` (waits up to 30 s).
export async function lastLink(mailUrl, email, previous) {
  for (let i = 0; i < 300; i++) {
    const text = await (await fetch(`${mailUrl}?to=${encodeURIComponent(email)}`)).text();
    if (text && text !== previous) { return text; }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no mail for ${email}`);
}
