// Asks the questions one after another with `answer` and prints one JSON line each;
// exits 1 when a user got an error instead of an answer.
export async function askAll(answer) {
  const questions = Number(process.argv[2] ?? 2);
  let failed = 0;
  for (let i = 1; i <= questions; i++) {
    try {
      console.log(JSON.stringify({ ok: true, text: await answer(`Question ${i}: which clause covers refunds?`) }));
    } catch (error) {
      failed++;
      console.log(JSON.stringify({ ok: false, error: String(error?.message ?? error) }));
    }
  }
  process.exitCode = failed ? 1 : 0;
}
