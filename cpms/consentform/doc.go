// Package consentform renders the model consent form that a clinician gives a patient before
// enrolling the patient's case on the platform. The form explains, in plain language, what a
// European Reference Network (ERN) and the platform are, what is shared with the network's
// experts and what stays in the hospital, and how to change one's mind; it then collects the
// three consents the enrolment records — consent for care (required), consent for the ERN's
// databases and registries, and consent to be contacted about research (both optional) — each
// with a Yes/No answer and a date, and the signatures.
//
// Two variants exist: the standard form, and the simplified form for patients displaced from
// Ukraine, which asks for the consent for care only. The text is kept per language; Languages
// lists the languages the form is prepared for and which of them are written.
package consentform
