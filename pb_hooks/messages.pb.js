/// <reference path="../pb_data/types.d.ts" />

// Message guard: a group chat policy that a deployer tunes without a rebuild
// (see message_guard.js for the settings and docs/hooks.md for why this is a
// JS hook and not a Go one). A message whose body breaks the policy is
// refused with a 400 naming the `body` field, before anything is stored.
//
// Superusers (the dashboard) are exempt: moderators repair data by hand.

// Validate the configuration once at start, so a bad value stops the server
// with an error naming it instead of failing every message later.
require(`${__hooks}/message_guard.js`).load()

onRecordCreateRequest((e) => {
    if (!e.hasSuperuserAuth()) {
        const guard = require(`${__hooks}/message_guard.js`)
        const invalid = guard.check(e.record.getString("body"), guard.config())
        if (invalid) {
            throw new BadRequestError("Failed to create record.", { body: invalid })
        }
    }
    e.next()
}, "messages")

onRecordUpdateRequest((e) => {
    // Only a changed body is checked, so tightening the policy does not lock
    // older messages against edits of their attachments.
    const body = e.record.getString("body")
    if (!e.hasSuperuserAuth() && body !== e.record.original().getString("body")) {
        const guard = require(`${__hooks}/message_guard.js`)
        const invalid = guard.check(body, guard.config())
        if (invalid) {
            throw new BadRequestError("Failed to update record.", { body: invalid })
        }
    }
    e.next()
}, "messages")
