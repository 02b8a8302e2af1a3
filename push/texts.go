package push

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// excerptRunes is how much of a message a push shows: enough to read on a
// lock screen, well under Expo's 4 KiB payload limit (MessageTooBig) with
// a group name of at most 80 characters as the title.
const excerptRunes = 100

// excerpt is the start of s on one line, cut at excerptRunes with an
// ellipsis.
func excerpt(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= excerptRunes {
		return s
	}
	r := []rune(s)
	return strings.TrimRight(string(r[:excerptRunes-1]), " ") + "…"
}

// nameOr is a person's display name, or "Someone" for an account that is
// gone.
func nameOr(name string) string {
	if name == "" {
		return "Someone"
	}
	return name
}

// messageBody is one message as a push shows it: the author and the start
// of the text. Attachments are only counted: their content stays on the
// server, behind the file rules.
func messageBody(author, text string, attachments int) string {
	if t := excerpt(text); t != "" {
		return nameOr(author) + ": " + t
	}
	if attachments == 1 {
		return nameOr(author) + " sent an attachment"
	}
	return fmt.Sprintf("%s sent %d attachments", nameOr(author), attachments)
}

// summaryFormat is the body of a push standing for the messages of one
// coalescing window: their number and the group's name (the push's
// title). The dashboard's pushes view renders it with SQLite's printf.
const summaryFormat = "%d new messages in %s"

func eventBody(creator, title string) string {
	return fmt.Sprintf("%s added an event: %s", nameOr(creator), excerpt(title))
}

func promotionBody(title string) string {
	return fmt.Sprintf("A place opened up: you're going to %s.", excerpt(title))
}

// reminderBody says how soon an event starts, in whole minutes rounded up.
func reminderBody(title string, in time.Duration) string {
	minutes := int(math.Ceil(in.Minutes()))
	switch {
	case minutes >= 60:
		return fmt.Sprintf("%s starts in an hour.", excerpt(title))
	case minutes <= 1:
		return fmt.Sprintf("%s starts in a minute.", excerpt(title))
	default:
		return fmt.Sprintf("%s starts in %d minutes.", excerpt(title), minutes)
	}
}
