package consentform

// english returns the English text of the form.
func english() *text {
	return &text{
		Subject:   "Consent to share a patient's case with a European Reference Network",
		Footer:    "Model consent form — {ERN} — version 1",
		PageLabel: "Page {n} of {total}",

		Title:    "Patient consent form",
		Subtitle: "Sharing your case with {network}",
		Centre:   "Hospital:",
		UkraineNote: "This is the simplified consent form for patients displaced from Ukraine. " +
			"It asks only for the consent for care, so that experts of the network can advise " +
			"your doctor on your diagnosis and treatment.",
		Intro: "Your doctor would like to ask experts in other European countries for advice " +
			"about your illness. This form explains what that means for you and asks for your " +
			"consent. Please read it carefully and ask your doctor about anything that is not " +
			"clear. You do not have to decide straight away.",

		ERNHeading: "What is a European Reference Network?",
		ERNBody: "European Reference Networks (ERNs) connect hospitals and experts across Europe " +
			"who work on rare and complex diseases. When a disease is rare, few doctors see " +
			"many patients with it. By sharing their knowledge across borders, the experts help " +
			"patients get the best possible diagnosis and treatment, without the patient having " +
			"to travel. {network} is the network for conditions like yours.",
		PlatformHeading: "How is your case discussed?",
		PlatformBody: "Your doctor presents your case to a panel of experts of {ERN} through " +
			"the Clinical Patient Management System (CPMS), a secure online platform made for " +
			"this purpose. The experts study your case, discuss it together and give written " +
			"advice to your doctor. Your doctor remains responsible for your care and talks " +
			"with you about the advice.",
		SharedHeading: "What is shared, and what is not",
		SharedIntro:   "The experts see a pseudonymised version of your case. This means that they see:",
		Shared: []string{
			"the medical information needed to understand your illness: your medical history, " +
				"symptoms, test results and treatments;",
			"medical documents and images, such as reports, X-rays or scans, from which your " +
				"name and other details that identify you have been removed;",
			"a code number that the platform gives to your case instead of your name.",
		},
		NotSharedIntro: "The experts do not see who you are. These details are not shared:",
		NotShared: []string{
			"your name and address;",
			"your date of birth;",
			"your patient number at the hospital and other local identifiers.",
		},
		IdentityNote: "Your identity stays in your hospital. Only your own hospital can link " +
			"the case on the platform to you.",

		ChoicesHeading: "Your choices",
		ChoicesIntro: "This form asks for three separate consents. The first is needed for the " +
			"experts to discuss your case. The other two are optional.",
		ChoicesIntroUkraine: "This form asks for one consent: the consent for care, which is " +
			"needed for the experts to discuss your case.",
		CareHeading: "Consent for care (required)",
		CareBody: "You agree that your doctor shares your pseudonymised case, with the medical " +
			"documents and images needed, with experts of {ERN} through the platform, so that " +
			"they can advise on your diagnosis and treatment. Without this consent your case " +
			"cannot be discussed in the network. If you say no, your own hospital goes on " +
			"caring for you as before.",
		RegistryHeading: "Consent for ERN databases and registries (optional)",
		RegistryBody: "You agree that pseudonymised data about your condition are kept in a " +
			"database or registry of {ERN}. Registries bring together data of many patients " +
			"with the same rare disease; this helps doctors understand the disease and improve " +
			"care. Data used for research are anonymised, so that they can no longer be linked " +
			"to you. If you agree, your doctor writes down the name of the registry.",
		ResearchHeading: "Consent to be contacted about research (optional)",
		ResearchBody: "You agree that your doctor may contact you later about research studies " +
			"that could be relevant for you. Agreeing to be contacted does not mean agreeing " +
			"to take part: you will receive information about each study and can then decide.",
		OptionalNote: "You can say no to one or both optional consents. This has no effect at " +
			"all on your care or on the discussion of your case.",

		WithdrawHeading: "Changing your mind",
		WithdrawBody: []string{
			"You can withdraw any of your consents at any time, without giving a reason, by " +
				"telling your doctor. Withdrawing does not change your care.",
			"If you withdraw the consent for care, no new discussion of your case is started " +
				"and nothing more is shared. The record of the discussions already held is " +
				"frozen: the advice already given stays on file, but the case is no longer " +
				"discussed or shared.",
		},
		WithdrawOptional: "If you withdraw an optional consent, no more of your data go to " +
			"the registry, or you are no longer contacted about research. Data that have " +
			"already been anonymised cannot be taken back, because nobody can tell any more " +
			"that they are yours.",
		DataHeading: "Protecting your data",
		DataBody: []string{
			"Your data are protected by the European General Data Protection Regulation " +
				"(GDPR). Your hospital is the controller of the data that identify you: it " +
				"keeps your name and the link between you and your case. Only the experts " +
				"taking part in the discussion of your case can see it on the platform, and " +
				"every access is recorded.",
			"Your hospital keeps this form and the data that identify you in your medical " +
				"record, for as long as the law requires medical records to be kept. The " +
				"pseudonymised case is kept on the platform for as long as it is needed for " +
				"your care and for following up the advice, within the periods set out in the " +
				"platform's privacy statement.",
			"You have the right to see the data about you, to have mistakes corrected and, in " +
				"some cases, to have data erased or their use restricted. To use these rights, " +
				"ask your doctor or the data protection officer of your hospital. You can also " +
				"complain to the data protection authority of your country.",
		},

		SignHeading: "Consent",
		SignIntro: "Please tick Yes or No for each consent and write the date. Your doctor " +
			"records your answers in the platform. This signed form stays in your medical " +
			"record at the hospital; it is not shared with the experts. If anything is not " +
			"clear, please ask before you sign.",
		PatientName: "Patient's name:",
		BirthDate:   "Date of birth:",
		CareStatement: "I agree that my pseudonymised case, with the medical documents and " +
			"images needed, is shared with experts of {ERN} through the platform, for advice " +
			"on my diagnosis and treatment.",
		RegistryStatement: "I agree that my pseudonymised data are kept in a database or " +
			"registry of {ERN}.",
		ResearchStatement: "I agree to be contacted about research that may be relevant for me.",
		Answer:            "Answer:",
		Yes:               "Yes",
		No:                "No",
		Date:              "Date:",
		Remarks:           "Register name / remarks:",

		SignaturesHeading:  "Signatures",
		PatientSignature:   "Signature of the patient:",
		GuardianNote:       "If the patient is a child or cannot give consent, a parent or legal guardian signs:",
		GuardianName:       "Name of parent or legal guardian:",
		GuardianSignature:  "Signature:",
		ClinicianNote:      "Clinician who explained this form and records the consents:",
		ClinicianName:      "Name of the clinician:",
		ClinicianSignature: "Signature:",
	}
}
