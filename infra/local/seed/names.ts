import { TITLE_NAMES } from './titles.js';

type TitleName = (typeof TITLE_NAMES)[number];

/**
 * Each invented title as a French and a Portuguese release would name it: the localised title on
 * the artwork is what tells the locales apart at a glance, where no badge can cover it.
 */
const LOCALISED: Record<TitleName, { fr: string; pt: string }> = {
  'The Long Night': { fr: 'La Longue Nuit', pt: 'A Longa Noite' },
  'Harbour Lights': { fr: 'Les Feux du Port', pt: 'Luzes do Porto' },
  'Cinder & Salt': { fr: 'Cendre et Sel', pt: 'Cinza e Sal' },
  'The Quiet Orbit': { fr: "L'Orbite Silencieuse", pt: 'A Órbita Silenciosa' },
  Northbound: { fr: 'Cap au Nord', pt: 'Rumo ao Norte' },
  'A House of Paper Birds': { fr: 'La Maison aux Oiseaux de Papier', pt: 'Uma Casa de Pássaros de Papel' },
  'Low Tide Society': { fr: 'La Société des Marées Basses', pt: 'A Sociedade da Maré Baixa' },
  'The Cartographer': { fr: 'Le Cartographe', pt: 'O Cartógrafo' },
  'Velvet Static': { fr: 'Statique de Velours', pt: 'Estática de Veludo' },
  'Ember Valley': { fr: 'La Vallée des Braises', pt: 'Vale das Brasas' },
  'Glass Meridian': { fr: 'Le Méridien de Verre', pt: 'Meridiano de Vidro' },
  'The Last Lighthouse': { fr: 'Le Dernier Phare', pt: 'O Último Farol' },
  'Foxglove Road': { fr: 'La Route des Digitales', pt: 'Estrada das Dedaleiras' },
  'Midnight Ledger': { fr: 'Le Registre de Minuit', pt: 'O Livro da Meia-Noite' },
  'Saltwater Kings': { fr: "Les Rois de l'Eau Salée", pt: 'Reis da Água Salgada' },
  'The Ninth Winter': { fr: 'Le Neuvième Hiver', pt: 'O Nono Inverno' },
  'Copper Skies': { fr: 'Ciels de Cuivre', pt: 'Céus de Cobre' },
  'Little Hours': { fr: 'Les Petites Heures', pt: 'As Pequenas Horas' },
  'The Orchard Heist': { fr: 'Le Casse du Verger', pt: 'O Assalto ao Pomar' },
  'Paper Moons': { fr: 'Lunes de Papier', pt: 'Luas de Papel' },
  'Signal & Noise': { fr: 'Signal et Bruit', pt: 'Sinal e Ruído' },
  'The Drowned Choir': { fr: 'Le Chœur Englouti', pt: 'O Coro Afogado' },
  'Atlas of Small Things': { fr: 'Atlas des Petites Choses', pt: 'Atlas das Pequenas Coisas' },
  'Wolves of Marrow Bay': { fr: 'Les Loups de Marrow Bay', pt: 'Os Lobos de Marrow Bay' },
  'The Tin Astronomer': { fr: "L'Astronome de Fer-Blanc", pt: 'O Astrônomo de Lata' },
  'Beneath the Boulevard': { fr: 'Sous le Boulevard', pt: 'Sob o Bulevar' },
  'Sunday Assassins': { fr: 'Les Tueurs du Dimanche', pt: 'Assassinos de Domingo' },
  'The Lantern Keepers': { fr: 'Les Gardiens des Lanternes', pt: 'Os Guardiões das Lanternas' },
  Frostline: { fr: 'Ligne de Givre', pt: 'Linha de Geada' },
  'Echo Parade': { fr: 'La Parade des Échos', pt: 'Desfile de Ecos' },
};

/** The title as released in `locale` (`pt-BR` and `pt` share the Portuguese title; others are English). */
export function localisedName(name: string, locale: string): string {
  const names = LOCALISED[name as TitleName] as { fr: string; pt: string } | undefined;
  const language = locale.split('-', 1)[0]?.toLowerCase();
  if (names === undefined) return name;
  if (language === 'fr') return names.fr;
  if (language === 'pt') return names.pt;
  return name;
}
