//! The banner's words: built-in languages, language choice, overrides, and the hash of what was shown.
//!
//! Owns: which text a visitor sees for each key. The hash of those exact texts goes into every
//! consent receipt, so a later reader can prove which wording was agreed to; therefore the
//! order and joining of texts here is part of the evidence format and must not change silently.
#[allow(unused_imports)]
use crate::prelude::*;
use crate::core::config::Config;

/// Every text the banner shows. The names are the keys of `texts` in the config.
#[derive(Clone, Copy, PartialEq)]
#[cfg_attr(test, derive(Debug))]
pub enum Key {
    Title,
    Body,
    AcceptAll,
    RejectAll,
    Customise,
    Save,
    Close,
    PrefsTitle,
    PrefsBody,
    PolicyLink,
    AlwaysOn,
    Reopen,
    Saved,
    GpcHonoured,
    CcpaLink,
    Download,
    Provider,
    Lifetime,
    Services,
    Name,
    PurposeCol,
    YourChoices,
    NecessaryTitle,
    NecessaryDesc,
    AnalyticsTitle,
    AnalyticsDesc,
    MarketingTitle,
    MarketingDesc,
    FunctionalTitle,
    FunctionalDesc,
}

const NAMES: [&str; 30] = [
    "title", "body", "acceptAll", "rejectAll", "customise", "save", "close", "prefsTitle", "prefsBody",
    "policyLink", "alwaysOn", "reopen", "saved", "gpcHonoured", "ccpaLink", "download", "provider",
    "lifetime", "services", "name", "purpose", "yourChoices", "purpose.necessary.title", "purpose.necessary.description", "purpose.analytics.title",
    "purpose.analytics.description", "purpose.marketing.title", "purpose.marketing.description",
    "purpose.functional.title", "purpose.functional.description",
];

const ALL: [Key; 30] = [
    Key::Title, Key::Body, Key::AcceptAll, Key::RejectAll, Key::Customise, Key::Save, Key::Close,
    Key::PrefsTitle, Key::PrefsBody, Key::PolicyLink, Key::AlwaysOn, Key::Reopen, Key::Saved,
    Key::GpcHonoured, Key::CcpaLink, Key::Download, Key::Provider, Key::Lifetime, Key::Services, Key::Name,
    Key::PurposeCol, Key::YourChoices, Key::NecessaryTitle,
    Key::NecessaryDesc, Key::AnalyticsTitle, Key::AnalyticsDesc, Key::MarketingTitle, Key::MarketingDesc,
    Key::FunctionalTitle, Key::FunctionalDesc,
];

impl Key {
    pub fn name(self) -> &'static str {
        NAMES[self as usize]
    }
    pub fn from_name(name: &str) -> Option<Key> {
        NAMES.iter().position(|n| *n == name).map(|i| ALL[i])
    }
}

/// Built-in languages, in table order. English is the fallback.
pub const LANGS: [&str; 8] = ["en", "de", "fr", "es", "it", "nl", "pt", "pl"];

/// One table per language; each holds the 30 texts in `Key` order, separated by '\n'.
const TABLES: [&str; 8] = [
    "We value your privacy
We use cookies and similar tools that are strictly necessary for this site, and, only with your consent, others to measure and improve it. You can accept all, reject all, or choose. You can change your mind at any time.
Accept all
Reject all
Customise
Save choices
Close
Privacy preferences
Choose which purposes you allow. Strictly necessary storage is always on because the site cannot work without it.
Privacy policy
Always on
Privacy choices
Your choices were saved.
Your browser's Global Privacy Control signal was honoured: opt-out request honoured for sale, sharing and analytics.
Do Not Sell or Share My Personal Information
Download my consent record
Provider
Lifetime
Services and cookies
Name
Purpose
Your Privacy Choices
Strictly necessary
Needed for the site to work and to remember your privacy choices. Cannot be turned off.
Analytics
Anonymous visit statistics that help us improve the site.
Marketing
Personalised advertising and sharing with advertising partners.
Functional
Extra features such as embedded videos and remembered preferences.",
    "Wir respektieren Ihre Privatsphäre
Wir verwenden Cookies und ähnliche Techniken, die für diese Website unbedingt erforderlich sind, und nur mit Ihrer Einwilligung weitere, um sie zu messen und zu verbessern. Sie können alle akzeptieren, alle ablehnen oder auswählen. Sie können Ihre Wahl jederzeit ändern.
Alle akzeptieren
Alle ablehnen
Anpassen
Auswahl speichern
Schließen
Datenschutz-Einstellungen
Wählen Sie, welche Zwecke Sie erlauben. Unbedingt erforderliche Speicherung ist immer aktiv, weil die Website sonst nicht funktioniert.
Datenschutzerklärung
Immer aktiv
Datenschutz-Einstellungen
Ihre Auswahl wurde gespeichert.
Das Global-Privacy-Control-Signal Ihres Browsers wurde berücksichtigt: Widerspruch gegen Verkauf, Weitergabe und Analyse umgesetzt.
Meine personenbezogenen Daten nicht verkaufen oder weitergeben
Meinen Einwilligungsnachweis herunterladen
Anbieter
Speicherdauer
Dienste und Cookies
Name
Zweck
Ihre Datenschutzoptionen
Unbedingt erforderlich
Nötig, damit die Website funktioniert und Ihre Datenschutz-Auswahl gespeichert bleibt. Kann nicht deaktiviert werden.
Statistik
Anonyme Besuchsstatistiken, mit denen wir die Website verbessern.
Marketing
Personalisierte Werbung und Weitergabe an Werbepartner.
Funktional
Zusätzliche Funktionen wie eingebettete Videos und gespeicherte Einstellungen.",
    "Nous respectons votre vie privée
Nous utilisons des cookies et des outils similaires strictement nécessaires à ce site et, uniquement avec votre consentement, d'autres pour le mesurer et l'améliorer. Vous pouvez tout accepter, tout refuser ou choisir. Vous pouvez changer d'avis à tout moment.
Tout accepter
Tout refuser
Personnaliser
Enregistrer mes choix
Fermer
Préférences de confidentialité
Choisissez les finalités que vous autorisez. Le stockage strictement nécessaire est toujours actif, car le site ne peut pas fonctionner sans lui.
Politique de confidentialité
Toujours actif
Mes choix de confidentialité
Vos choix ont été enregistrés.
Le signal Global Privacy Control de votre navigateur a été respecté : opposition à la vente, au partage et à la mesure d'audience appliquée.
Ne pas vendre ni partager mes informations personnelles
Télécharger la preuve de mon consentement
Fournisseur
Durée
Services et cookies
Nom
Finalité
Vos choix en matière de confidentialité
Strictement nécessaires
Indispensables au fonctionnement du site et à la mémorisation de vos choix. Ne peuvent pas être désactivés.
Mesure d'audience
Statistiques de visite anonymes qui nous aident à améliorer le site.
Marketing
Publicité personnalisée et partage avec des partenaires publicitaires.
Fonctionnels
Fonctions supplémentaires comme les vidéos intégrées et les préférences mémorisées.",
    "Respetamos tu privacidad
Usamos cookies y herramientas similares estrictamente necesarias para este sitio y, solo con tu consentimiento, otras para medirlo y mejorarlo. Puedes aceptar todo, rechazar todo o elegir. Puedes cambiar de opinión en cualquier momento.
Aceptar todo
Rechazar todo
Personalizar
Guardar selección
Cerrar
Preferencias de privacidad
Elige qué finalidades permites. El almacenamiento estrictamente necesario está siempre activo porque el sitio no funciona sin él.
Política de privacidad
Siempre activo
Opciones de privacidad
Se guardó tu selección.
Se respetó la señal Global Privacy Control de tu navegador: solicitud de exclusión de venta, intercambio y analítica atendida.
No vender ni compartir mi información personal
Descargar mi registro de consentimiento
Proveedor
Duración
Servicios y cookies
Nombre
Finalidad
Sus opciones de privacidad
Estrictamente necesarias
Necesarias para que el sitio funcione y recuerde tus opciones de privacidad. No se pueden desactivar.
Analítica
Estadísticas de visitas anónimas que nos ayudan a mejorar el sitio.
Marketing
Publicidad personalizada e intercambio con socios publicitarios.
Funcionales
Funciones adicionales como vídeos insertados y preferencias recordadas.",
    "Rispettiamo la tua privacy
Usiamo cookie e strumenti simili strettamente necessari per questo sito e, solo con il tuo consenso, altri per misurarlo e migliorarlo. Puoi accettare tutto, rifiutare tutto o scegliere. Puoi cambiare idea in qualsiasi momento.
Accetta tutto
Rifiuta tutto
Personalizza
Salva le scelte
Chiudi
Preferenze sulla privacy
Scegli quali finalità consenti. L'archiviazione strettamente necessaria è sempre attiva perché il sito non funziona senza.
Informativa sulla privacy
Sempre attivo
Scelte sulla privacy
Le tue scelte sono state salvate.
Il segnale Global Privacy Control del tuo browser è stato rispettato: richiesta di opposizione a vendita, condivisione e statistiche accolta.
Non vendere o condividere le mie informazioni personali
Scarica la prova del mio consenso
Fornitore
Durata
Servizi e cookie
Nome
Finalità
Le tue scelte sulla privacy
Strettamente necessari
Servono al funzionamento del sito e a ricordare le tue scelte sulla privacy. Non possono essere disattivati.
Statistiche
Statistiche anonime sulle visite che ci aiutano a migliorare il sito.
Marketing
Pubblicità personalizzata e condivisione con partner pubblicitari.
Funzionali
Funzioni aggiuntive come video incorporati e preferenze ricordate.",
    "Wij respecteren uw privacy
Wij gebruiken cookies en vergelijkbare technieken die strikt noodzakelijk zijn voor deze site en, alleen met uw toestemming, andere om de site te meten en te verbeteren. U kunt alles accepteren, alles weigeren of kiezen. U kunt uw keuze altijd wijzigen.
Alles accepteren
Alles weigeren
Aanpassen
Keuzes opslaan
Sluiten
Privacyvoorkeuren
Kies welke doeleinden u toestaat. Strikt noodzakelijke opslag staat altijd aan, omdat de site anders niet werkt.
Privacybeleid
Altijd aan
Privacykeuzes
Uw keuzes zijn opgeslagen.
Het Global Privacy Control-signaal van uw browser is gerespecteerd: bezwaar tegen verkoop, delen en statistieken gehonoreerd.
Mijn persoonsgegevens niet verkopen of delen
Mijn toestemmingsbewijs downloaden
Aanbieder
Bewaartermijn
Diensten en cookies
Naam
Doel
Uw privacykeuzes
Strikt noodzakelijk
Nodig om de site te laten werken en uw privacykeuzes te onthouden. Kan niet worden uitgezet.
Statistieken
Anonieme bezoekstatistieken die ons helpen de site te verbeteren.
Marketing
Gepersonaliseerde advertenties en delen met advertentiepartners.
Functioneel
Extra functies zoals ingesloten video's en onthouden voorkeuren.",
    "Respeitamos a sua privacidade
Usamos cookies e ferramentas semelhantes estritamente necessárias para este site e, apenas com o seu consentimento, outras para o medir e melhorar. Pode aceitar tudo, rejeitar tudo ou escolher. Pode mudar de ideias a qualquer momento.
Aceitar tudo
Rejeitar tudo
Personalizar
Guardar escolhas
Fechar
Preferências de privacidade
Escolha as finalidades que permite. O armazenamento estritamente necessário está sempre ativo porque o site não funciona sem ele.
Política de privacidade
Sempre ativo
Escolhas de privacidade
As suas escolhas foram guardadas.
O sinal Global Privacy Control do seu navegador foi respeitado: pedido de exclusão de venda, partilha e estatísticas atendido.
Não vender nem partilhar as minhas informações pessoais
Descarregar o meu registo de consentimento
Fornecedor
Duração
Serviços e cookies
Nome
Finalidade
As suas escolhas de privacidade
Estritamente necessários
Necessários para o site funcionar e lembrar as suas escolhas de privacidade. Não podem ser desativados.
Estatísticas
Estatísticas de visitas anónimas que nos ajudam a melhorar o site.
Marketing
Publicidade personalizada e partilha com parceiros de publicidade.
Funcionais
Funções adicionais como vídeos incorporados e preferências lembradas.",
    "Szanujemy Twoją prywatność
Używamy plików cookie i podobnych narzędzi niezbędnych do działania tej strony oraz, wyłącznie za Twoją zgodą, innych do jej pomiaru i ulepszania. Możesz zaakceptować wszystkie, odrzucić wszystkie lub wybrać. Możesz zmienić zdanie w każdej chwili.
Akceptuj wszystkie
Odrzuć wszystkie
Dostosuj
Zapisz wybór
Zamknij
Ustawienia prywatności
Wybierz, na które cele się zgadzasz. Niezbędne przechowywanie jest zawsze włączone, bo bez niego strona nie działa.
Polityka prywatności
Zawsze włączone
Wybory dotyczące prywatności
Twój wybór został zapisany.
Uwzględniono sygnał Global Privacy Control Twojej przeglądarki: sprzeciw wobec sprzedaży, udostępniania i statystyk został zrealizowany.
Nie sprzedawaj ani nie udostępniaj moich danych osobowych
Pobierz zapis mojej zgody
Dostawca
Okres przechowywania
Usługi i pliki cookie
Nazwa
Cel
Twoje wybory dotyczące prywatności
Niezbędne
Potrzebne do działania strony i zapamiętania Twoich wyborów prywatności. Nie można ich wyłączyć.
Statystyki
Anonimowe statystyki odwiedzin, które pomagają nam ulepszać stronę.
Marketing
Reklamy spersonalizowane i udostępnianie partnerom reklamowym.
Funkcjonalne
Dodatkowe funkcje, takie jak osadzone filmy i zapamiętane ustawienia.",
];

/// The built-in text for `key` in language table `lang`.
pub fn builtin(lang: usize, key: Key) -> &'static str {
    TABLES[lang.min(LANGS.len() - 1)].split('\n').nth(key as usize).unwrap_or("")
}

/// Picks the first candidate (config, `<html lang>`, `navigator.languages`, in that order) that
/// has a table, matching on the primary subtag ("pt-BR" → "pt"); English otherwise.
/// Returns the code to report (the candidate's primary subtag) and the table index.
pub fn pick_language<'a>(candidates: impl IntoIterator<Item = &'a str>) -> usize {
    for c in candidates {
        let primary = c.split(['-', '_']).next().unwrap_or("");
        if let Some(i) = LANGS.iter().position(|l| l.eq_ignore_ascii_case(primary)) {
            return i;
        }
    }
    0
}

/// The texts one visitor sees: built-in language table plus the site's overrides.
pub struct Texts<'c> {
    pub lang: usize,
    config: &'c Config,
}

impl<'c> Texts<'c> {
    pub fn new(config: &'c Config, lang: usize) -> Self {
        Texts { lang, config }
    }
    pub fn code(&self) -> &'static str {
        LANGS[self.lang]
    }
    /// An override for `name` in this language, then one for every language ("*").
    fn lookup(&self, name: &str) -> Option<&'c str> {
        let code = self.code();
        for want in [code, "*"] {
            for (lang, table) in &self.config.texts {
                if lang.split('-').next() == Some(want) || (want == "*" && lang == "*") {
                    if let Some((_, t)) = table.iter().find(|(k, _)| k == name) {
                        return Some(t);
                    }
                }
            }
        }
        None
    }
    pub fn get(&self, key: Key) -> &'c str {
        self.lookup(key.name()).unwrap_or_else(|| builtin(self.lang, key))
    }
    /// Title and description of a purpose: language override, then the config's own text,
    /// then the built-in text for a well-known id, then the id itself.
    pub fn purpose(&self, id: &str, description: bool) -> &'c str {
        let mut name = String::from("purpose.");
        name.push_str(id);
        name.push_str(if description { ".description" } else { ".title" });
        if let Some(t) = self.lookup(&name) {
            return t;
        }
        if let Some(p) = self.config.purpose(id) {
            let own = if description { &p.description } else { &p.title };
            if let Some(t) = own {
                return t;
            }
            if let Some(k) = Key::from_name(&name) {
                return builtin(self.lang, k);
            }
            if !description {
                return &p.id;
            }
        }
        ""
    }
    /// Every text the visitor can be shown, in a fixed order: the 22 banner texts, then for
    /// each purpose its title and description, then each service's fields. Joined with '\n'
    /// (texts cannot make this ambiguous because each item ends with one). Its SHA-256 is the
    /// receipt's `texts` field.
    pub fn shown(&self) -> String {
        let mut s = String::new();
        let mut add = |t: &str| {
            s.push_str(t);
            s.push('\n');
        };
        for k in &ALL[..22] {
            add(self.get(*k));
        }
        for p in &self.config.purposes {
            add(self.purpose(&p.id, false));
            add(self.purpose(&p.id, true));
            for svc in &p.services {
                add(&svc.name);
                add(&svc.provider);
                add(&svc.purpose);
                add(&svc.lifetime);
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config;

    #[test]
    fn every_language_has_every_text() {
        for (i, table) in TABLES.iter().enumerate() {
            assert_eq!(table.split('\n').count(), ALL.len(), "{}", LANGS[i]);
            assert!(table.split('\n').all(|t| !t.trim().is_empty()), "{}", LANGS[i]);
        }
        for (i, k) in ALL.iter().enumerate() {
            assert_eq!(*k as usize, i);
            assert_eq!(Key::from_name(k.name()), Some(*k));
        }
    }

    #[test]
    fn picks_language_by_primary_subtag() {
        assert_eq!(LANGS[pick_language(["pt-BR"])], "pt");
        assert_eq!(LANGS[pick_language(["ja", "de-AT", "fr"])], "de");
        assert_eq!(LANGS[pick_language(["ar"])], "en");
        assert_eq!(LANGS[pick_language([])], "en");
    }

    #[test]
    fn overrides_win_and_change_the_hash_input() {
        let c = config::parse(
            r#"{"policyVersion":"1","purposes":[{"id":"analytics"},{"id":"video","title":"Videos"}],
               "texts":{"de":{"acceptAll":"Alles klar"},"*":{"purpose.analytics.title":"Reichweite"}}}"#,
        )
        .unwrap();
        let de = Texts::new(&c, 1);
        assert_eq!(de.get(Key::AcceptAll), "Alles klar");
        assert_eq!(de.get(Key::RejectAll), "Alle ablehnen");
        assert_eq!(de.purpose("analytics", false), "Reichweite");
        assert_eq!(de.purpose("video", false), "Videos");
        assert_eq!(de.purpose("video", true), "");
        assert_eq!(de.purpose("necessary", false), "Unbedingt erforderlich");
        let en = Texts::new(&c, 0);
        assert_eq!(en.get(Key::AcceptAll), "Accept all");
        assert_ne!(de.shown(), en.shown());
        assert!(en.shown().starts_with("We value your privacy\n"));
    }
}
