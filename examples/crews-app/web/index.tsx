// The web entry point: the same App, rendered by react-native-web (the web
// build aliases react-native to it).
import { AppRegistry } from 'react-native';
import App from '../App';

AppRegistry.registerComponent('crews', () => App);
AppRegistry.runApplication('crews', { rootTag: document.getElementById('root') });
