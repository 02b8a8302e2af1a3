// The message guard's policy: which message bodies a group chat accepts.
// Loaded with require() by messages.pb.js; not an entrypoint itself (only
// *.pb.js files are), so it can be shared and unit-sized.
//
// Configuration, read once per JS VM (so a change applies after a restart,
// which `hearth serve --dev` does by itself when a file in pb_hooks changes):
//
//   pb_hooks/message_guard.json   {"max_length": 2000, "blocked_words": ["spam"]}
//   HEARTH_BLOCKED_WORDS          comma-separated words added to blocked_words
//   HEARTH_MESSAGE_MAX_LENGTH     a whole number that replaces max_length
//
// The schema's own limit on messages.body (4000 characters) stays the hard
// ceiling; max_length can only tighten it.

const CONFIG_FILE = `${__hooks}/message_guard.json`

// SEPARATORS splits a body into words: whitespace, ASCII punctuation and the
// common Unicode punctuation blocks. (Goja's regexps have no \p{...} classes.)
const SEPARATORS = /[\s!-\/:-@\[-\^`{-~\u00a1\u00ab\u00bb\u00bf\u2000-\u206f\u3000-\u303f\uff01-\uff0f]+/

/**
 * load reads and validates the configuration. It throws an Error naming the
 * file or variable at fault, so a bad value stops `hearth serve` at start.
 */
function load() {
    let file = {}
    try {
        file = JSON.parse(toString($os.readFile(CONFIG_FILE)))
    } catch (err) {
        throw new Error(`${CONFIG_FILE}: ${err}`)
    }

    let maxLength = file.max_length === undefined ? 0 : file.max_length
    if (!isWholeNumber(maxLength)) {
        throw new Error(`${CONFIG_FILE}: max_length must be a whole number >= 0 (0 means no limit), got ${JSON.stringify(file.max_length)}`)
    }
    const envMax = $os.getenv("HEARTH_MESSAGE_MAX_LENGTH").trim()
    if (envMax !== "") {
        if (!/^\d+$/.test(envMax)) {
            throw new Error(`HEARTH_MESSAGE_MAX_LENGTH: ${JSON.stringify(envMax)} is not a whole number >= 0`)
        }
        maxLength = parseInt(envMax, 10)
    }

    const listed = file.blocked_words === undefined ? [] : file.blocked_words
    if (!Array.isArray(listed) || listed.some((w) => typeof w !== "string")) {
        throw new Error(`${CONFIG_FILE}: blocked_words must be a list of strings`)
    }
    const words = listed.concat($os.getenv("HEARTH_BLOCKED_WORDS").split(","))
        .map((w) => w.trim().toLowerCase())
        .filter((w) => w !== "")

    return { maxLength: maxLength, blockedWords: words }
}

/**
 * check returns null when body is acceptable under config, otherwise a
 * ValidationError for the `body` field. Words match whole and in any case:
 * "Spam!" and "SPAM" match "spam", "spammer" does not.
 */
function check(body, config) {
    if (config.maxLength > 0) {
        // Count characters (code points) as PocketBase's text field does.
        // A code point is one or two UTF-16 units (body.length counts
        // units), so only a length between the limit and twice it needs
        // the count, which copies the body into an array of strings.
        const units = body.length
        if (units > config.maxLength && (units > 2 * config.maxLength || Array.from(body).length > config.maxLength)) {
            return new ValidationError(
                "validation_max_text_constraint",
                `Must be no more than ${config.maxLength} character(s).`,
            )
        }
    }
    if (config.blockedWords.length > 0) {
        const words = new Set(body.toLowerCase().split(SEPARATORS))
        for (const blocked of config.blockedWords) {
            if (words.has(blocked)) {
                return new ValidationError(
                    "validation_blocked_word",
                    `The message contains a blocked word ("${blocked}").`,
                )
            }
        }
    }
    return null
}

let cached = null

/** config is load() memoized for the life of this JS VM. */
function config() {
    if (cached === null) {
        cached = load()
    }
    return cached
}

function isWholeNumber(v) {
    return typeof v === "number" && Number.isInteger(v) && v >= 0
}

module.exports = { load, config, check }
