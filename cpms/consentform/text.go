package consentform

// text is the wording of the form in one language. In every field, "{ERN}" stands for the
// network's short name, "{network}" for the short name followed by the full name in
// parentheses (the short name alone when the full name is not given), and, in PageLabel,
// "{n}" and "{total}" for the page number and the number of pages.
type text struct {
	// Document properties and running text on every page.
	Subject   string
	Footer    string
	PageLabel string

	// Opening.
	Title       string
	Subtitle    string
	Centre      string // label before the hospital's name, or before a line to write it on
	UkraineNote string // simplified form only
	Intro       string

	// Explanations.
	ERNHeading      string
	ERNBody         string
	PlatformHeading string
	PlatformBody    string
	SharedHeading   string
	SharedIntro     string
	Shared          []string
	NotSharedIntro  string
	NotShared       []string
	IdentityNote    string

	ChoicesHeading      string
	ChoicesIntro        string // standard form: three consents
	ChoicesIntroUkraine string // simplified form: the consent for care only
	CareHeading         string
	CareBody            string
	RegistryHeading     string // standard form only, as are the fields down to OptionalNote
	RegistryBody        string
	ResearchHeading     string
	ResearchBody        string
	OptionalNote        string

	WithdrawHeading  string
	WithdrawBody     []string
	WithdrawOptional string // standard form only
	DataHeading      string
	DataBody         []string

	// Signature part.
	SignHeading       string
	SignIntro         string
	PatientName       string
	BirthDate         string
	CareStatement     string
	RegistryStatement string
	ResearchStatement string
	Answer            string
	Yes               string
	No                string
	Date              string
	Remarks           string

	SignaturesHeading  string
	PatientSignature   string
	GuardianNote       string
	GuardianName       string
	GuardianSignature  string
	ClinicianNote      string
	ClinicianName      string
	ClinicianSignature string
}
