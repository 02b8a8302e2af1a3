// The phone entry point: Expo runs App (the web build's entry is web/index.tsx).
import { registerRootComponent } from 'expo';
import App from './App';

registerRootComponent(App);
