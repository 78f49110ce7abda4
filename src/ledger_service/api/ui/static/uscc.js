// Unified social credit codes (GB 32100-2015), as credit_ledger_verify.records.uscc checks
// them: 18 characters over 0-9A-HJ-NPQRTUWXY, characters 3-8 digits, and a check character
// making sum(value(c_i) * 3^(i-1)) + value(check) ≡ 0 (mod 31).
export const USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const FORMAT = /^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$/;

export function usccCheckCharacter(first17) {
  let total = 0;
  let weight = 1;
  for (const c of first17) {
    total += USCC_ALPHABET.indexOf(c) * weight;
    weight = (weight * 3) % 31;
  }
  return USCC_ALPHABET[(31 - (total % 31)) % 31];
}

// Looks like an attempt at a code (18 upper-case letters or digits), whether valid or not.
export function looksLikeUscc(text) {
  return /^[0-9A-Z]{18}$/.test(text);
}

// null when valid, else {reason, expected?}
export function usccProblem(code) {
  if (!FORMAT.test(code)) return { reason: "format" };
  const expected = usccCheckCharacter(code.slice(0, 17));
  if (code[17] !== expected) return { reason: "check", expected };
  return null;
}
